"""The model wing: ``CodeEmbedder`` and its life on disk and on the Hub.

- :mod:`~st_jce.model.embedder`: ``CodeEmbedder`` and ``build_model``, which assembles one around a backbone;
- :mod:`~st_jce.model.directory`: what a saved model directory holds, read without running any of it;
- :mod:`~st_jce.model.weights`: checks that weights files are whole (saves are atomic: :mod:`st_jce.atomic`);
- :mod:`~st_jce.model.loading`: ``load`` (st-jce's format, checked) and ``load_model`` (any format);
- :mod:`~st_jce.model.portable`: the plain sentence-transformers format and back;
- :mod:`~st_jce.model.card`: the model card, written from a model in hand;
- :mod:`~st_jce.model.push`: publishing to the Hub.

Examples
--------
>>> from st_jce.model import CodeEmbedder, build_model, load, push_model, write_model_card
"""

from st_jce.model.card import build_model_card, read_card_inputs, write_model_card
from st_jce.model.embedder import DEFAULT_BACKBONE, CodeEmbedder, build_model
from st_jce.model.loading import load, load_model
from st_jce.model.portable import export_portable, from_portable
from st_jce.model.push import push_model

__all__ = [
    "DEFAULT_BACKBONE", "CodeEmbedder", "build_model", "build_model_card", "export_portable", "from_portable", "load",
    "load_model", "push_model", "read_card_inputs", "write_model_card",
]
