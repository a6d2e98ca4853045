"""Publishing st-jce models to the Hugging Face Hub, with their model card (:mod:`st_jce.card`).

Examples
--------
>>> from st_jce.publish import build_model_card, push_model, write_model_card
"""

from st_jce.card import build_model_card, read_card_inputs, write_model_card
from st_jce.publish.push import push_model

__all__ = ["build_model_card", "push_model", "read_card_inputs", "write_model_card"]
