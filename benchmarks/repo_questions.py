"""Questions about this repository and the unit that answers each: where ``st-jce index`` + ``search``
rank that unit (windows of one unit counted once), and the mean reciprocal rank.

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
        reciprocal_ranks = []
        for question, answer in QUESTIONS.items():
            units = list(dict.fromkeys(hit.name for hit in index.search(question, k=SEARCH_DEPTH)))
            rank = units.index(answer) + 1 if answer in units else None
            reciprocal_ranks.append(1 / rank if rank else 0.0)
            print(f"{question!r}: {answer} ranked {rank or f'below {SEARCH_DEPTH}'}; first {units[:3]}")
    print(f"mean reciprocal rank {sum(reciprocal_ranks) / len(reciprocal_ranks):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
