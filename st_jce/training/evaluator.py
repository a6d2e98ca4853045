"""``LocalRetrievalEvaluator``: nDCG@10 on local BEIR folders as a sentence-transformers evaluator.

It scores as ``st-jce eval`` does (the task type's prefixes from the model's own prompts, documents as
"title text", cosine similarity, nDCG@10 at every Matryoshka dimension), with exact search in
:mod:`st_jce.evaluation.ndcg` instead of mteb, so ``pip install 'st-jce[train]'`` evaluates while it trains.
The trainer calls it before training, every ``eval_steps`` and at the end; under DDP the trainer runs it
on the main process while the others help encode.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from statistics import mean

import numpy as np
import torch
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator

from st_jce.data.beir import document_text, read_beir_folder
from st_jce.evaluation.folder_entries import parse_data
from st_jce.evaluation.ndcg import ndcg_at_k, rank_documents
from st_jce.evaluation.report import SUMMARY_FILE, build_summary
from st_jce.prefixes import ROLES, prompt_name

NDCG_CUTOFF = 10


class LocalRetrievalEvaluator(SentenceEvaluator):
    """Evaluate a model on local BEIR folders (``"PATH:TASK_TYPE"``) with its task-type prefixes.

    Parameters
    ----------
    data : sequence of str
        ``"PATH:TASK_TYPE"`` entries, e.g. ``"data/mbpp:nl2code"``.
    output_dir : str or PathLike
        Where each evaluation's ``summary.json`` goes (one subfolder per call: ``step-N`` or ``final``).
    matryoshka_dims : sequence of int, optional
        nDCG@10 is also reported at these truncations (the full dimension always is).
    batch_size : int
        Encoding batch size.
    max_seq_length : int, optional
        Token limit while evaluating; the model's own limit is restored afterwards.
    use_prefixes : bool
        ``False`` evaluates a baseline as it is, without task prefixes (its own ``"query"`` /
        ``"document"`` prompts apply if it has any).
    autocast_dtype : torch.dtype, optional
        Encode under ``torch.autocast`` in this dtype (e.g. ``torch.bfloat16`` when training in bf16, as the
        trainer's own evaluation does); the weights are not touched.

    Attributes
    ----------
    last_summary : dict or None
        The summary (``{"tasks": {name: {"ndcg_at_10", "by_dim", ...}}, ...}``, as ``st-jce eval`` writes it)
        of the latest call.

    Examples
    --------
    >>> from sentence_transformers import SentenceTransformer
    >>> from st_jce.backbones import minilm_dir
    >>> evaluator = LocalRetrievalEvaluator(["data/mbpp:nl2code"], "eval", use_prefixes=False)  # doctest: +SKIP
    >>> evaluator(SentenceTransformer(str(minilm_dir())))  # doctest: +SKIP
    {'local_mbpp_ndcg@10': 0.74..., 'local_mean_ndcg@10': 0.74...}
    """

    def __init__(self, data: Sequence[str], output_dir: str | os.PathLike, *, matryoshka_dims: Sequence[int] | None = None,
                 batch_size: int = 8, max_seq_length: int | None = None, use_prefixes: bool = True,
                 autocast_dtype: torch.dtype | None = None, name: str = "local") -> None:
        super().__init__()
        self.data = list(data)
        self.folders = parse_data(self.data)
        self.output_dir = Path(output_dir)
        self.matryoshka_dims = list(matryoshka_dims) if matryoshka_dims else None
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.use_prefixes = use_prefixes
        self.autocast_dtype = autocast_dtype
        self.name = name
        self.primary_metric = "mean_ndcg@10"
        self.last_summary: dict | None = None

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        previous_length = model.max_seq_length
        dims = sorted({model.get_embedding_dimension(), *(self.matryoshka_dims or [])}, reverse=True)
        try:
            model.max_seq_length = self.max_seq_length or previous_length
            corpora: dict = {}  # a corpus that several folders share (a set's dev and test queries) is encoded once
            scores = {folder.resolve().name: {"task_type": kind,
                                              "by_dim": self.ndcg_by_dim(model, folder, kind, dims, corpora=corpora)}
                      for folder, kind in self.folders}
        finally:
            model.max_seq_length = previous_length
        settings = {"batch_size": self.batch_size, "max_seq_length": self.max_seq_length or previous_length,
                    "prefixes": "task-type prefixes" if self.use_prefixes else "none (model's own prompts only)",
                    "matryoshka_dims": sorted(dims), "search": "exact cosine (st_jce.evaluation.ndcg)"}
        self.last_summary = build_summary(self.name, scores, settings)
        run_dir = self.output_dir / (f"step-{steps}" if steps >= 0 else "final")
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / SUMMARY_FILE).write_text(json.dumps(self.last_summary, indent=2) + "\n", encoding="utf-8")
        metrics = {f"{task}_ndcg@10": result["ndcg_at_10"] for task, result in self.last_summary["tasks"].items()}
        metrics["mean_ndcg@10"] = mean(metrics.values())
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def ndcg_by_dim(self, model, folder: Path, task_type: str, dims: Sequence[int], *,
                    corpora: dict | None = None) -> dict[int, float]:
        """nDCG@10 of ``model`` on one folder at each of ``dims``: one full-dimension encoding, truncated.

        ``corpora`` (one dict for one state of the model) keeps each corpus's document embeddings by its file (links
        resolved) and task type, so folders that share a corpus encode it once."""
        data = read_beir_folder(folder)
        query_ids = list(data.qrels)
        prompts = {role: {"prompt_name": prompt_name(task_type, role)} if self.use_prefixes else {} for role in ROLES}
        encode = {"batch_size": self.batch_size, "show_progress_bar": False, "convert_to_numpy": True}
        corpora = {} if corpora is None else corpora
        corpus_key = ((folder / "corpus.jsonl").resolve(), task_type)
        # Encoding in the training precision; scoring in float32, outside autocast.
        with torch.autocast(model.device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
            queries = model.encode_query([data.queries[query_id] for query_id in query_ids], **prompts["query"], **encode)
            if corpus_key not in corpora:
                document_ids = list(data.corpus)
                corpora[corpus_key] = document_ids, model.encode_document(
                    [document_text(data.corpus[doc_id]) for doc_id in document_ids], **prompts["document"], **encode)
        document_ids, documents = corpora[corpus_key]
        queries, documents = np.asarray(queries, dtype=np.float32), np.asarray(documents, dtype=np.float32)
        by_dim = {}
        for dim in dims:
            rankings = rank_documents(queries, documents, document_ids, k=NDCG_CUTOFF, dim=dim)
            by_dim[dim] = ndcg_at_k(dict(zip(query_ids, rankings)), data.qrels, k=NDCG_CUTOFF)
        return by_dim

    def get_config_dict(self) -> dict:
        return {"data": self.data, "max_seq_length": self.max_seq_length, "use_prefixes": self.use_prefixes,
                "autocast_dtype": str(self.autocast_dtype) if self.autocast_dtype else None}
