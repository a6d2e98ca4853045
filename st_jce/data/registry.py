"""The paper's public training sets (RECIPE.md, "Training datasets by task type") under their Hub ids.

Each :class:`RegistryEntry` says where the data lives, how to turn it into (query, document) pairs
(a column mapping, or a qrels join for BEIR-layout CoIR sets) and which task type it trains. A config
names an entry by its key: ``{"name": "cosqa"}`` or ``{"source": "registry", "path": "cosqa", "name": "my-cosqa"}``.

Column names were checked against the Hub dataset cards / viewers and mteb's own loaders; entries
whose loading could not be checked from here carry ``verified=False`` and say why in ``note``.
``eval_overlap`` names the public evaluation set (e.g. ``mbpp``) that an entry contains, so it can be
left out of runs evaluated on that set.

Examples
--------
>>> from st_jce.data import REGISTRY
>>> REGISTRY["cosqa"].hub_id, REGISTRY["cosqa"].task_type, REGISTRY["cosqa"].layout
('CoIR-Retrieval/cosqa', 'nl2code', 'beir')
>>> REGISTRY["spider"].query_column, REGISTRY["spider"].document_column
('question', 'query')
"""

from __future__ import annotations

from dataclasses import dataclass

LAYOUTS: tuple[str, ...] = ("columns", "beir")
CODESEARCHNET_LANGUAGES: tuple[str, ...] = ("python", "javascript", "go", "ruby", "java", "php")


@dataclass(frozen=True)
class RegistryEntry:
    """Where one training set lives on the Hub and how it becomes (query, document) pairs.

    Attributes
    ----------
    hub_id
        The Hub dataset id.
    task_type
        The task type whose prefixes its pairs get.
    paper_name
        The dataset's name in the paper's Tables 3 / 4a.
    layout
        ``"columns"``: one row per pair, ``query_column`` / ``document_column`` hold the texts (a dotted
        name such as ``sql.human_readable`` reaches into a struct column). ``"beir"``: corpus / queries /
        qrels configs joined by :func:`st_jce.data.beir.load_beir_pairs`.
    subsets
        Hub configs. Columns layout: the config to load (at most one). BEIR layout: the language
        prefixes of the configs, all concatenated (empty = the plain ``corpus`` / ``queries`` /
        ``default`` configs). A spec's ``subset`` picks one of them instead.
    data_files
        For repositories that only load through a dataset script, the data file(s) to read instead;
        ``{subset}`` is replaced by the chosen subset.
    revision
        Pinned Hub revision where one is known (mteb's pins for the CoIR sets).
    verified
        ``False`` where the columns or the loading path could not be checked (see ``note``).
    eval_overlap
        The public evaluation set (e.g. ``mbpp``) whose items this training set contains, if any.
    """

    hub_id: str
    task_type: str
    paper_name: str
    layout: str = "columns"
    subsets: tuple[str, ...] = ()
    query_column: str = "query"
    document_column: str = "document"
    data_files: str | None = None
    revision: str | None = None
    verified: bool = True
    eval_overlap: str | None = None
    note: str = ""


def _coir(hub_id: str, task_type: str, paper_name: str, revision: str | None = None,
          subsets: tuple[str, ...] = (), note: str = "") -> RegistryEntry:
    return RegistryEntry(hub_id=hub_id, task_type=task_type, paper_name=paper_name, layout="beir",
                         subsets=subsets, revision=revision, note=note)


REGISTRY: dict[str, RegistryEntry] = {
    # --- NL2Code ---
    "apps": _coir("CoIR-Retrieval/apps", "nl2code", "AppsRetrieval", "f22508f96b7a36c2415181ed8bb76f76e04ae2d5"),
    "cosqa": _coir("CoIR-Retrieval/cosqa", "nl2code", "CoSQA", "bc5efb7e9d437246ce393ed19d772e08e4a79535"),
    "synthetic-text2sql": _coir("CoIR-Retrieval/synthetic-text2sql", "nl2code", "SyntheticText2SQL",
                                "686b87296c3a0191b5d9415a00526c62db9fce09"),
    "mbpp": RegistryEntry(
        hub_id="google-research-datasets/mbpp", task_type="nl2code", paper_name="MBPP", subsets=("full",),
        query_column="text", document_column="code", eval_overlap="mbpp",
        note="The mbpp evaluation set (MTEB MBPPRetrieval) holds all 974 MBPP problems, train split included."),
    "codeforces": RegistryEntry(
        hub_id="MatrixStudio/Codeforces-Python-Submissions", task_type="nl2code", paper_name="CodeForcesP2S",
        query_column="problem-description", document_column="code",
        note="Several accepted submissions per problem: set max_samples or expect repeated queries."),
    "leetcode": RegistryEntry(
        hub_id="greengerong/leetcode", task_type="nl2code", paper_name="LeetCodeP2S",
        query_column="content", document_column="python",
        note="The solution column is a markdown answer (code block plus explanation)."),
    "commitpackft": RegistryEntry(
        hub_id="bigcode/commitpackft", task_type="nl2code", paper_name="CommitPackFT", subsets=("python",),
        query_column="message", document_column="new_contents", data_files="data/{subset}/data.jsonl",
        note="Read from the per-language JSONL files because the repository's loading script no longer runs."),
    "spider": RegistryEntry(
        hub_id="xlangai/spider", task_type="nl2code", paper_name="Spider", subsets=("spider",),
        query_column="question", document_column="query",
        note="The spider-dev evaluation set is the validation split, disjoint from train."),
    "wikisql": RegistryEntry(
        hub_id="Salesforce/wikisql", task_type="nl2code", paper_name="WikiSQL",
        query_column="question", document_column="sql.human_readable", verified=False,
        note="Columns per the dataset card; the repository loads through a dataset script, which recent "
             "`datasets` releases do not run, and no Parquet export could be confirmed from here."),
    "swe-bench": RegistryEntry(
        hub_id="princeton-nlp/SWE-bench", task_type="nl2code", paper_name="SWE-Bench",
        query_column="problem_statement", document_column="patch"),
    "codesearchnet": RegistryEntry(
        hub_id="code-search-net/code_search_net", task_type="nl2code", paper_name="CodeSearchNet",
        subsets=("python",), query_column="func_documentation_string", document_column="func_code_string",
        verified=False,
        note="Columns per the dataset card; the repository loads through a dataset script (per-language zips), "
             "which recent `datasets` releases do not run. The code column may still contain the docstring."),
    # --- TechQA ---
    "codefeedback-mt": _coir("CoIR-Retrieval/codefeedback-mt", "qa", "CodeFeedbackMT",
                             "b0f12fa0c0dd67f59c95a5c33d02aeeb4c398c5f"),
    "codefeedback-st": _coir("CoIR-Retrieval/codefeedback-st", "qa", "CodeFeedbackST",
                             "d213819e87aab9010628da8b73ab4eb337c89340"),
    "stackoverflow-qa": _coir("CoIR-Retrieval/stackoverflow-qa", "qa", "StackOverflowQA"),
    "glaive-code-assistant-v2": RegistryEntry(
        hub_id="glaiveai/glaive-code-assistant-v2", task_type="qa", paper_name="GlaiveCodeAssistantV2",
        query_column="question", document_column="answer"),
    # --- Code2Code ---
    "codetrans-contest": _coir("CoIR-Retrieval/codetrans-contest", "code2code", "CodeTransOceanContest",
                               "20da4eb20a4b17300c0986ee148c90867a7f2a4d"),
    "codetrans-dl": _coir("CoIR-Retrieval/codetrans-dl", "code2code", "CodeTransOceanDL",
                          "281562cb8a1265ab5c0824bfa6ddcd9b0a15618f"),
    # --- Code2NL ---
    "coir-codesearchnet": _coir("CoIR-Retrieval/CodeSearchNet", "code2nl", "COIRCodeSearchNetRetrieval",
                                "4adc7bc41202b5c13543c9c886a25f340634dab3", CODESEARCHNET_LANGUAGES),
    # --- Code2Completion ---
    "codesearchnet-ccr": _coir("CoIR-Retrieval/CodeSearchNet-ccr", "code2completion", "CodeSearchNetCCRetrieval",
                               "6e1effa2c03723c5fde48ee912b5ee08d4f211e8", CODESEARCHNET_LANGUAGES),
}

# Paper training sets with no registry entry, and why; shown when a config asks for one of them.
NOT_REGISTERED: dict[str, str] = {
    "mlquestions": "McGill-NLP/mlquestions has no paired train split: its only (question, passage) pairs are the "
                   "dev/test questions of the mlquestions evaluation set, which st-jce evaluates on.",
    "cosqa-plus": "CoSQA+ reuses the CoSQA queries and is an evaluation set (paper Table 2).",
    "doc2code": "EdinburghNLP/code-docstring-corpus: no Hub copy with a confirmed column layout.",
    "stackexchange": "EleutherAI/stackexchange_dataset is a GitHub scraper, not a Hub dataset.",
    "hackerearth": "ethancaballero/description2code is a GitHub archive, not a Hub dataset.",
    "codechef": "The CodeChef / LeetCodeXLang / SyntheticDLTrans sets are the paper's own synthetic data.",
    "datascience": "The DataScience set comes from Kaggle (stackoverflow/stacksample), not the Hub.",
}


def registry_entry(key: str) -> RegistryEntry:
    """The entry for ``key``, or a ``ValueError`` that lists the known keys (and says why if unregistered)."""
    if key in REGISTRY:
        return REGISTRY[key]
    reason = f" ({NOT_REGISTERED[key]})" if key in NOT_REGISTERED else ""
    raise ValueError(f"unknown registry dataset {key!r}{reason}; known: {sorted(REGISTRY)}. For other data set "
                     f"`source: hub` (with `path`, `query_column`, `document_column`) or `source: local`.")
