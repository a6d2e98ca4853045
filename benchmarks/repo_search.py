"""Issue → code localization on the repository-search development set (``shared/repo-search``): every question
searched in its tree's index under each search setting, scored by the set's own ``score.py``, one table.

The indexes are built once per model as the set's README says (``st-jce index WORK/trees/GROUP --model MODEL
--out WORK/indexes-TAG/GROUP``); the settings differ only at search time, so each is a search of the same
indexes with one model load. A setting is ``NAME=OPTION=VALUE,...`` over :meth:`st_jce.search.Index.search`'s
options (``lexical_weight``, ``context_weight``, ``tests``), or ``windows=mean``: a query longer than the model
reads is embedded as the mean of its windows (each as long as the model reads), not as its first tokens.

Examples
--------
::

    python benchmarks/repo_search.py --indexes /tmp/repo-search-work/indexes-minilm \\
        --setting dense=lexical_weight=0 --setting lexical=lexical_weight=0.3 --out /tmp/repo-search-minilm
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from workspace import shared_dir

from st_jce.prefixes import prefix_of
from st_jce.search import Index

# score.py's summary keys, by the names its README's table gives them
COLUMNS = {"F@1": "file_acc@1", "F@5": "file_acc@5", "F@10": "file_acc@10", "Fd@5": "files_dedup_acc@5",
           "Fd@10": "files_dedup_acc@10", "fn@10": "func_acc@10", "fn-MRR": "func_mrr@10"}
K = 50  # hits per question: the set's README asks for >= 50, for the distinct-file columns


def parse_setting(text: str) -> tuple[str, dict]:
    """``NAME=OPTION=VALUE,OPTION=VALUE`` → ``(NAME, {OPTION: VALUE})`` (numbers as floats)."""
    name, _, options = text.partition("=")
    parsed = {}
    for option in filter(None, options.split(",")):
        key, _, value = option.partition("=")
        try:
            parsed[key] = float(value)
        except ValueError:
            parsed[key] = value
    return name, parsed


def query_windows(model, text: str, prefix: str) -> list[str]:
    """``text`` cut into consecutive pieces that each fit the model's ``max_seq_length`` after ``prefix``."""
    budget = model.max_seq_length - len(model.tokenizer(prefix, add_special_tokens=True)["input_ids"]) - 1
    offsets = model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                              verbose=False)["offset_mapping"]
    starts = [offsets[i][0] for i in range(0, len(offsets), budget)]
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)])] or [text]


def mean_of_windows(index: Index, text: str) -> np.ndarray:
    """The normalized mean of the query embeddings of ``text``'s windows."""
    windows = query_windows(index.model, text, prefix_of(index.model, index.settings["task_type"], "query"))
    embeddings, _ = index.embed_queries(windows)
    mean = embeddings.mean(axis=0)
    return mean / np.linalg.norm(mean)


def search_all(questions: list[dict], indexes: Path, settings: dict[str, dict], model=None) -> dict[str, list[dict]]:
    """Each setting's results lines (``{"id", "hits"}``) for every question whose group has an index, searched with
    ``model`` (default: the first index's own model, loaded once)."""
    results: dict[str, list[dict]] = {name: [] for name in settings}
    for group in sorted({question["group"] for question in questions}):
        manifest = indexes / group / "manifest.json"
        if not (manifest.is_file() and json.loads(manifest.read_text()).get("complete")):
            print(f"no complete index for {group}: its questions count as misses", file=sys.stderr)
            continue
        index = Index(indexes / group, model=model)
        asked = [question for question in questions if question["group"] == group]
        for name, options in settings.items():
            options = dict(options)
            texts = [question["query"] for question in asked]
            if options.pop("windows", None) == "mean":
                embeddings = np.stack([mean_of_windows(index, text) for text in texts])
                found = index.search_embeddings(embeddings, k=K, query_texts=texts, **{"tests": "auto", **options})
            else:
                found = index.search(texts, k=K, **options)
            results[name] += [{"id": question["id"], "hits": [hit.to_dict() for hit in hits]}
                              for question, hits in zip(asked, found)]
        model = index.model
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indexes", required=True, help="a folder of one index per group (named after the group)")
    parser.add_argument("--setting", action="append", required=True, metavar="NAME=OPTION=VALUE,...",
                        help="a search setting (repeatable)")
    parser.add_argument("--out", required=True, help="folder for each setting's results and score summary")
    args = parser.parse_args(argv)

    data = shared_dir()
    if data is None or not (data / "repo-search" / "questions.jsonl").is_file():
        parser.error("shared/repo-search was not found: set ST_JCE_SHARED")
    folder = data / "repo-search"
    questions = [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines() if line.strip()]
    settings = dict(parse_setting(text) for text in args.setting)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("| setting | " + " | ".join(COLUMNS) + " |\n|---" + "|---:" * len(COLUMNS) + "|")
    for name, lines in search_all(questions, Path(args.indexes), settings).items():
        results = out / f"results-{name}.jsonl"
        results.write_text("".join(json.dumps(line) + "\n" for line in lines))
        subprocess.run([sys.executable, str(folder / "score.py"), "--results", str(results),
                        "--out", str(out / f"summary-{name}.json")], check=True, capture_output=True)
        summary = json.loads((out / f"summary-{name}.json").read_text())["summary"]["all"]
        print(f"| {name} | " + " | ".join(f"{summary[key]:.3f}" for key in COLUMNS.values()) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
