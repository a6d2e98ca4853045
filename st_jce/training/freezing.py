"""Training only the top layers of the backbone: the recipe on a CPU budget.

Fine-tuning all 24 layers of a 0.5B decoder is hours of CPU per hundred steps; with the bottom layers frozen
no gradient flows below the top ``n`` transformer blocks, so a step costs a forward pass plus the backward of
those blocks only. The token embeddings and frozen blocks keep their pre-trained weights; the top blocks and
the final norm learn to turn the last token's state into an embedding.
"""

from __future__ import annotations

from torch import nn


def transformer_blocks(backbone: nn.Module) -> nn.ModuleList:
    """The backbone's stack of transformer blocks: the ``ModuleList`` with ``config.num_hidden_layers`` entries
    (``layers`` of Qwen2 / Llama, ``encoder.layer`` of BERT).

    Examples
    --------
    >>> from transformers import BertConfig, BertModel
    >>> len(transformer_blocks(BertModel(BertConfig(num_hidden_layers=3, hidden_size=32, num_attention_heads=2,
    ...                                                  intermediate_size=37))))
    3
    """
    count = backbone.config.num_hidden_layers
    stacks = [module for module in backbone.modules() if isinstance(module, nn.ModuleList) and len(module) == count]
    if len(stacks) != 1:
        raise ValueError(f"cannot tell the transformer blocks of {type(backbone).__name__} ({len(stacks)} module "
                         f"lists of {count} entries); train all layers (unset trainable_top_layers).")
    return stacks[0]


def train_top_layers(backbone: nn.Module, count: int) -> int:
    """Freeze every parameter of ``backbone`` except its top ``count`` blocks and what follows them (the final
    norm); return the number of trainable parameters.

    Examples
    --------
    >>> from transformers import BertConfig, BertModel
    >>> bert = BertModel(BertConfig(num_hidden_layers=3, hidden_size=32, num_attention_heads=2, intermediate_size=37))
    >>> train_top_layers(bert, 1) == sum(p.numel() for p in bert.encoder.layer[2].parameters()) + sum(
    ...     p.numel() for p in bert.pooler.parameters())
    True
    """
    blocks = transformer_blocks(backbone)
    if not 1 <= count <= len(blocks):
        raise ValueError(f"trainable_top_layers: must be between 1 and the backbone's {len(blocks)} layers; "
                         f"got {count}.")
    top = {id(parameter) for block in blocks[len(blocks) - count:] for parameter in block.parameters()}
    last_of_blocks = {id(parameter) for parameter in blocks[-1].parameters()}
    parameters = list(backbone.parameters())
    # Parameters registered after the last block (final norm, pooler) sit on top of it: they stay trainable.
    after = max(index for index, parameter in enumerate(parameters) if id(parameter) in last_of_blocks)
    for index, parameter in enumerate(parameters):
        parameter.requires_grad_(id(parameter) in top or index > after)
    return sum(parameter.numel() for parameter in parameters if parameter.requires_grad)
