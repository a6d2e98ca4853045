"""Questions about this repository and the unit that answers each: where ``st-jce index`` + ``search``
rank that unit (windows of one unit counted once), the mean reciprocal rank and how many rank first. This file
is indexed with the rest but its hits are passed over: it holds the questions word for word.

Two sets: ``QUESTIONS``, the ones that defaults were chosen on, and ``HELD_OUT``, written before any of them was
measured and kept for judging a change, so that a change tuned to the first set shows whether it generalises.

Usage (an st-jce model, e.g. what ``st-jce train cpu-demo --output_dir runs/demo`` writes)::

    python benchmarks/repo_questions.py --model runs/demo/final
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from st_jce.loading import load_model
from st_jce.search import Index, build_index

QUESTIONS = {
    "where are task prefixes applied": "PrefixPrompt.preprocess",
    "where is last token pooling computed": "LastTokenPooling.forward",
    "how are GGUF files assembled from parts": "assemble_parts",
    "where is the InfoNCE loss built": "build_loss",
    "how is an index refused for another model": "check_query_model",
}
HELD_OUT = {
    "where is the model pushed to the Hugging Face Hub": "push_model",
    "how are matryoshka dimensions chosen by default": "default_matryoshka_dims",
    "where are docstring and function pairs mined": "mine_pairs",
    "how do we detect whether the CPU runs bf16 natively": "cpu_has_native_bf16",
    "where are linear layers quantized to int8": "quantize_int8",
    "how are texts grouped into batches by token budget": "token_budget_batches",
    "where is the model card written": "write_model_card",
    "how are only the top layers left trainable": "train_top_layers",
    "where is nDCG@10 computed": "ndcg_at_k",
    "where is a BEIR folder read": "read_beir_folder",
    "how is a source tree read respecting gitignore": "read_source_tree",
    "how is the approximate index built": "build_approximate",
    "where is a model directory checked before loading": "check_model_dir",
    "how is a text file written atomically": "atomic_write_text",
    "where is the distillation loss against the teacher": "distillation_loss",
    "where are the prefix keys and values computed once": "PrefixKVCache.prefix_states",
    "how is a search hit printed": "format_hit",
}
SEARCH_DEPTH = 300  # hits read per question; an answer below them counts as not found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="st-jce model directory or Hub id")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1],
                        help="source tree to index (default: this repository)")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    with tempfile.TemporaryDirectory() as work:
        build_index(args.source, Path(work) / "index", model, show_progress=False)
        index = Index(Path(work) / "index", model=model)
        this_file = _path_in(args.source)
        for label, questions in (("questions", QUESTIONS), ("held-out questions", HELD_OUT)):
            ranks = [_rank(index, question, answer, this_file) for question, answer in questions.items()]
            mrr = sum(1 / rank for rank in ranks if rank) / len(ranks)
            print(f"{label}: mean reciprocal rank {mrr:.2f}, first {ranks.count(1)} of {len(ranks)}\n")
    return 0


def _path_in(source: Path) -> str | None:
    """This file's path as an index of ``source`` names it; None if ``source`` does not hold it."""
    here, root = Path(__file__).resolve(), source.resolve()
    return here.relative_to(root).as_posix() if here.is_relative_to(root) else None


def _rank(index: Index, question: str, answer: str, passed_over: str | None) -> int | None:
    hits = index.search(question, k=SEARCH_DEPTH)
    units = list(dict.fromkeys(hit.name for hit in hits if hit.path != passed_over))
    rank = units.index(answer) + 1 if answer in units else None
    print(f"{question!r}: {answer} ranked {rank or f'below {SEARCH_DEPTH}'}; first {units[:3]}")
    return rank


if __name__ == "__main__":
    sys.exit(main())
