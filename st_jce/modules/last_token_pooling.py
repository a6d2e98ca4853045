"""Last-token pooling: the sentence embedding is the final hidden state of the last real token."""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers.base.modules import Module


class LastTokenPooling(Module):
    """Pool a batch of token embeddings to the hidden state of each text's last real token.

    This is the pooling of jina-code-embeddings (and of most decoder-based embedders): with causal
    attention, only the last position has seen the whole text. The last real token is found from the
    ``attention_mask``, so it is correct for right padding, left padding and mixed lengths alike; for
    unpadded (flattened) batches, the form flash-attention 2 uses on GPU, it is read from the
    cumulative sequence lengths ``cu_seq_lens_q``.

    Parameters
    ----------
    embedding_dimension : int
        Size of the token embeddings (the backbone's hidden size).

    Examples
    --------
    >>> import torch
    >>> pooling = LastTokenPooling(embedding_dimension=2)
    >>> tokens = torch.arange(12.0).reshape(2, 3, 2)
    >>> mask = torch.tensor([[1, 1, 0], [0, 1, 1]])  # right-padded, left-padded
    >>> pooling({"token_embeddings": tokens, "attention_mask": mask})["sentence_embedding"]
    tensor([[ 2.,  3.],
            [10., 11.]])
    """

    __module__ = "st_jce"  # modules.json records the stable public path "st_jce.LastTokenPooling"
    config_keys: list[str] = ["embedding_dimension"]

    def __init__(self, embedding_dimension: int) -> None:
        super().__init__()
        self.embedding_dimension = embedding_dimension

    def forward(self, features: dict[str, torch.Tensor | Any], **kwargs) -> dict[str, torch.Tensor | Any]:
        token_embeddings = features["token_embeddings"]
        if "cu_seq_lens_q" in features:
            # Flattened batch of shape (1, total_tokens, dim): sequence i ends just before cu_seq_lens_q[i + 1].
            ends = features["cu_seq_lens_q"][1:].long() - 1
            features["sentence_embedding"] = token_embeddings.reshape(-1, token_embeddings.shape[-1])[ends]
            return features

        attention_mask = features["attention_mask"]
        positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
        last = torch.where(attention_mask.bool(), positions, -1).max(dim=1).values
        if (last < 0).any():
            rows = (last < 0).nonzero().flatten().tolist()
            raise ValueError(f"LastTokenPooling: rows {rows} of the batch have no real token (all padding).")
        rows = torch.arange(token_embeddings.shape[0], device=token_embeddings.device)
        features["sentence_embedding"] = token_embeddings[rows, last.to(token_embeddings.device)]
        return features

    def get_embedding_dimension(self) -> int:
        return self.embedding_dimension

    def save(self, output_path: str, *args, safe_serialization: bool = True, **kwargs) -> None:
        self.save_config(output_path)
