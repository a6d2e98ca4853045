"""How a SentenceTransformer meets mteb here: task prefixes through mteb's per-task prompts, and
Matryoshka truncation that reuses one full-dimension encoding for every dimension."""

from __future__ import annotations

import hashlib
import logging
import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np
from mteb.models import SentenceTransformerEncoderWrapper
from mteb.types import PromptType
from sentence_transformers import SentenceTransformer

from st_jce.matryoshka import truncate_and_normalize
from st_jce.prefixes import prefix_of


def task_prompts(model: SentenceTransformer, task_types: dict[str, str]) -> dict[str, str]:
    """mteb ``model_prompts`` giving each task its prefixes: ``{"{Task}-query": ..., "{Task}-document": ...}``.

    A model's own named prompts (``nl2code_query``, ...: st-jce and portable models) win over
    :data:`st_jce.PREFIXES`, so a model trained with custom prefixes is evaluated with them.

    Examples
    --------
    >>> from sentence_transformers import SentenceTransformer
    >>> from st_jce.backbones import minilm_dir
    >>> prompts = task_prompts(SentenceTransformer(str(minilm_dir())), {"MBPPRetrieval": "nl2code"})
    >>> prompts["MBPPRetrieval-document"]
    'Candidate code snippet:\\n'
    """
    return {
        f"{task}-{role}": prefix_of(model, task_type, role, paper_default=True)
        for task, task_type in task_types.items()
        for role in ("query", "document")
    }


class PrefixedMatryoshkaEncoder(SentenceTransformerEncoderWrapper):
    """mteb's SentenceTransformer wrapper with fixed per-task prompts and Matryoshka truncation.

    Parameters
    ----------
    model : SentenceTransformer
        The model to evaluate; it is not modified.
    prompts : dict
        mteb ``model_prompts`` (see :func:`task_prompts`). ``{}`` sends no prompt, so sentence-transformers
        applies the model's own ``"query"`` / ``"document"`` prompts if it has any.
    name, revision : str
        Model name and revision under which mteb files the results.

    Notes
    -----
    mteb validates ``model_prompts`` against its task registry and drops keys of tasks it does not know,
    such as local folders; the prompts are therefore set on the public ``model_prompts`` attribute after
    construction, where mteb's lookup (``"{Task}-query"`` first) finds them for any task.

    Every input is encoded once, at full dimension: the embeddings are kept per (task, split, subset,
    role, texts) until :meth:`clear_embeddings`, and each evaluation at ``truncate_dim`` slices and
    re-normalizes them, as sentence-transformers' ``truncate_dim`` + cosine similarity would.
    """

    def __init__(self, model: SentenceTransformer, prompts: dict[str, str], *, name: str, revision: str) -> None:
        with _mteb_prompt_validation_silenced():
            super().__init__(model)
        self.model_prompts = dict(prompts)
        self.mteb_model_meta = self.mteb_model_meta.model_copy(update={"name": name, "revision": revision})
        self.full_dim = model.get_embedding_dimension()
        self.truncate_dim: int | None = None
        self._embeddings: dict[tuple, np.ndarray] = {}

    def at_dim(self, dim: int | None) -> PrefixedMatryoshkaEncoder:
        """Evaluate at ``dim`` from now on (``None`` or the full dimension: no truncation); returns ``self``.

        The results of a truncated run are filed under mteb's experiment ``truncate_dim_{dim}``.
        """
        if dim is not None and not 0 < dim <= self.full_dim:
            raise ValueError(f"Matryoshka dim {dim} is outside 1..{self.full_dim} (the model's embedding size); "
                             "choose dims no larger than the model's.")
        self.truncate_dim = None if dim == self.full_dim else dim
        experiment = {"truncate_dim": self.truncate_dim} if self.truncate_dim else None
        self.mteb_model_meta = self.mteb_model_meta.model_copy(
            update={"experiment_kwargs": experiment, "embed_dim": self.truncate_dim or self.full_dim})
        return self

    def clear_embeddings(self) -> None:
        """Forget the kept full-dimension embeddings (call when a task is done)."""
        self._embeddings.clear()

    def encode(self, inputs, *, task_metadata, hf_split: str, hf_subset: str,
               prompt_type: PromptType | None = None, **kwargs: Any) -> np.ndarray:
        key = (task_metadata.name, hf_split, hf_subset, prompt_type, _fingerprint(inputs))
        if key not in self._embeddings:
            embeddings = super().encode(inputs, task_metadata=task_metadata, hf_split=hf_split,
                                        hf_subset=hf_subset, prompt_type=prompt_type, **kwargs)
            self._embeddings[key] = np.asarray(embeddings, dtype=np.float32)
        return truncate_and_normalize(self._embeddings[key], self.truncate_dim)


def _fingerprint(inputs) -> str:
    """A digest of the texts of an mteb dataloader, so reused embeddings always belong to the same texts."""
    digest = hashlib.blake2b(digest_size=16)
    for batch in inputs:
        for text in batch["text"]:
            digest.update(text.encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()


@contextmanager
def _mteb_prompt_validation_silenced():
    """mteb checks a model's built-in prompts against its task registry and warns once per unknown key (ten
    times for the st-jce ``{task}_{role}`` prompts); they are replaced right after, so the noise is muted."""
    logger = logging.getLogger("mteb")
    level = logger.level
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(Task name .* is not valid|Some prompts are not in the expected)")
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)
