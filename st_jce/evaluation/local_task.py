"""A local BEIR folder as an mteb retrieval task: evaluated by mteb's own retrieval code, fully offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from datasets import Dataset
from mteb.abstasks.retrieval import AbsTaskRetrieval
from mteb.abstasks.task_metadata import TaskMetadata

from st_jce.data.beir import read_beir_folder
from st_jce.prefixes import resolve_task_type


class LocalRetrievalTask(AbsTaskRetrieval):
    """An mteb ``AbsTaskRetrieval`` whose data is a local BEIR folder (see :func:`read_beir_folder`).

    Parameters
    ----------
    folder : str or PathLike
        Folder with ``corpus.jsonl``, ``queries.jsonl`` and ``qrels.tsv``.
    task_type : str
        The st-jce task type of the data (chooses the prefixes), e.g. ``"nl2code"``.
    name : str, optional
        Task name in results and reports; defaults to the folder's name.

    Examples
    --------
    >>> import mteb
    >>> from st_jce.evaluation import LocalRetrievalTask
    >>> task = LocalRetrievalTask("data/mbpp", task_type="nl2code")  # doctest: +SKIP
    >>> mteb.evaluate(model, task, cache=None)  # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike, *, task_type: str, name: str | None = None, **kwargs: Any) -> None:
        self.folder = Path(folder)
        self.task_type = resolve_task_type(task_type)
        self._metadata = TaskMetadata(
            name=name or self.folder.resolve().name,
            description=f"Local BEIR folder {self.folder} ({self.task_type}).",
            dataset={"path": str(self.folder), "revision": "local"},
            type="Retrieval",
            category="t2t",
            modalities=["text"],
            eval_splits=["test"],
            eval_langs=["eng-Latn"],
            main_score="ndcg_at_10",
        )
        super().__init__(**kwargs)

    # mteb keeps task metadata on the class and drops per-instance metadata when it unloads data; a local
    # task's metadata describes its folder, so it lives behind a property that survives unloading.
    @property
    def metadata(self) -> TaskMetadata:
        return self._metadata

    @metadata.setter
    def metadata(self, value: TaskMetadata) -> None:
        self._metadata = value

    def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
        """Read and check the folder (errors name file and line), then hand it to mteb in its v2 layout."""
        if self.data_loaded:
            return
        data = read_beir_folder(self.folder)
        corpus_ids = list(data.corpus)
        corpus = Dataset.from_dict({
            "id": corpus_ids,
            "title": [data.corpus[doc_id]["title"] for doc_id in corpus_ids],
            "text": [data.corpus[doc_id]["text"] for doc_id in corpus_ids],
        })
        queries = Dataset.from_dict({"id": list(data.queries), "text": list(data.queries.values())})
        split = {"corpus": corpus, "queries": queries, "relevant_docs": data.qrels, "top_ranked": None}
        self.dataset = {"default": {"test": split}}
        self.data_loaded = True
