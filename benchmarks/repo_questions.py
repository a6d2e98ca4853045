"""Questions about this repository and the unit that answers each: where ``st-jce index`` + ``search``
rank that unit (windows of one unit counted once), the mean reciprocal rank and how many rank first. This file
is indexed with the rest but its hits are passed over: it holds the questions word for word.

``QUESTIONS`` are the ones that defaults were chosen on; the others were each written before any of them was
measured and are kept for judging a change, so that a change tuned to the first set shows whether it
generalises: ``HELD_OUT`` (stop 20, answered mostly by functions), ``HELD_OUT_METHODS`` (stop 23, answered by
methods, written before the context weight of ``st-jce search`` was chosen) and ``CONFIRMATION`` (stop 23,
written after the weight was chosen on the sets before it, and measured once). Every set is ranked with the
context weight at 0 (similarity alone, the baseline), at its default, and at its default with each
``--lexical-weights`` value (default: 0 and ``st-jce search``'s default lexical weight).

Usage (an st-jce model, e.g. what ``st-jce train cpu-demo --output_dir runs/demo`` writes)::

    python benchmarks/repo_questions.py --model runs/demo/final
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from st_jce.model.loading import load_model
from st_jce.search import Index, build_index
from st_jce.search.settings import CONTEXT_WEIGHT, LEXICAL_WEIGHT

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
HELD_OUT_METHODS = {
    "how are shards appended to the index store": "ShardStore.append",
    "where are the stored embeddings of an index read": "ShardStore.embeddings",
    "how is the temperature turned into the loss scale": "LossArguments.scale",
    "where is the trainer's loss computed": "CodeEmbedderTrainer.compute_loss",
    "how does the prefix cache decide the plain forward is faster": "PrefixKVCache._plain_is_faster",
    "where is a model saved with its prompts": "CodeEmbedder.save",
    "where is a dataset spec checked": "DatasetSpec.check",
    "where is the install command for a PyPI backbone": "PypiBackbone.install_command",
    "how does the Ray actor encode a batch": "_ActorEncoder.__call__",
    "where are the evaluator's nDCG scores per Matryoshka dim computed": "LocalRetrievalEvaluator.ndcg_by_dim",
    "how is the int8 linear layer's forward computed": "Int8Linear.forward",
    "where are skipped BEIR records logged": "_Checks.log_skipped",
    "how is the embedding size of last token pooling reported": "LastTokenPooling.get_embedding_dimension",
    "where is the mined function's summary taken from its docstring": "MinedFunction.summary",
    "how does the encoder truncate embeddings to a Matryoshka dim": "PrefixedMatryoshkaEncoder.at_dim",
    "where is a search hit turned into a dict for JSON": "Hit.to_dict",
    "how are a model directory's JSON files read": "ModelDirectory.read_json",
    "where is the prompt length of a prefix counted": "PrefixPrompt.prompt_length",
}
CONFIRMATION = {
    "where is a GGUF file converted to a transformers model": "convert_gguf",
    "how is the pooling chosen for a backbone": "resolve_pooling",
    "where is a PyPI backbone resolved": "resolve_backbone",
    "how are the training datasets mixed by weight": "weighted",
    "where is a tiny GGUF written for tests": "write_tiny_gguf",
    "how is the precision of an index checked": "check_precision",
    "where are int8 calibration ranges computed": "calibration_ranges",
    "how is the exact top k found": "exact_top_k",
    "where is a model exported to a portable format": "export_portable",
    "how are the weights verified after saving": "verify_weights",
    "where is the eval report rendered": "render_report",
    "where is a corpus file read": "read_corpus",
    "how are the shards of an index planned": "plan_shards",
    "where is the checkpoint to resume training from resolved": "resolve_checkpoint",
    "how is the mixed precision resolved for training": "resolve_mixed_precision",
    "where are empty pairs dropped": "drop_empty",
    "how is a completion split of a function made": "completion_split",
    "where is the nDCG plot by dimension drawn": "plot_ndcg_by_dim",
    "where are the pair columns of a dataset selected": "select_pair_columns",
    "how is the query model's agreement with the index probed": "probe_agreement",
}
QUESTION_SETS = {"questions": QUESTIONS, "held-out questions": HELD_OUT, "held-out method questions": HELD_OUT_METHODS,
                 "confirmation questions": CONFIRMATION}
SEARCH_DEPTH = 300  # hits read per question; an answer below them counts as not found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="st-jce model directory or Hub id")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1],
                        help="source tree to index (default: this repository)")
    parser.add_argument("--lexical-weights", type=float, nargs="+", default=[0.0, LEXICAL_WEIGHT],
                        help="lexical weights to rank with at the default context weight (default: 0 and "
                             f"{LEXICAL_WEIGHT})")
    args = parser.parse_args(argv)
    weights = list(dict.fromkeys([(0.0, 0.0)] + [(CONTEXT_WEIGHT, lexical) for lexical in args.lexical_weights]))
    model = load_model(args.model)
    with tempfile.TemporaryDirectory() as work:
        build_index(args.source, Path(work) / "index", model, show_progress=False)
        index = Index(Path(work) / "index", model=model)
        this_file = _path_in(args.source)
        summary, every_rank = [], {setting: [] for setting in weights}
        for label, questions in QUESTION_SETS.items():
            for setting in weights:
                ranks = [_rank(index, question, answer, this_file, *setting) for question, answer in questions.items()]
                every_rank[setting] += ranks
                summary.append(_summary(f"{label}, {_weights(*setting)}", ranks))
                print(summary[-1] + "\n")
        summary += [_summary(f"all questions, {_weights(*setting)}", ranks) for setting, ranks in every_rank.items()]
        print("\n".join(summary))
    return 0


def _summary(label: str, ranks: list[int | None]) -> str:
    mrr = sum(1 / rank for rank in ranks if rank) / len(ranks)
    return f"{label}: mean reciprocal rank {mrr:.2f}, first {ranks.count(1)} of {len(ranks)}"


def _weights(context_weight: float, lexical_weight: float) -> str:
    return f"context weight {context_weight}, lexical weight {lexical_weight}"


def _path_in(source: Path) -> str | None:
    """This file's path as an index of ``source`` names it; None if ``source`` does not hold it."""
    here, root = Path(__file__).resolve(), source.resolve()
    return here.relative_to(root).as_posix() if here.is_relative_to(root) else None


def _rank(index: Index, question: str, answer: str, passed_over: str | None,
          context_weight: float = CONTEXT_WEIGHT, lexical_weight: float = LEXICAL_WEIGHT) -> int | None:
    hits = index.search(question, k=SEARCH_DEPTH, context_weight=context_weight, lexical_weight=lexical_weight)
    units = list(dict.fromkeys(hit.name for hit in hits if hit.path != passed_over))
    rank = units.index(answer) + 1 if answer in units else None
    print(f"{question!r}: {answer} ranked {rank or f'below {SEARCH_DEPTH}'}; first {units[:3]}")
    return rank


if __name__ == "__main__":
    sys.exit(main())
