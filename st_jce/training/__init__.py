"""Training with the jina-code-embeddings recipe: arguments, loss, trainer and the end-to-end ``train``.

``st-jce train`` (and ``train_st.py`` of a checkout, which calls it) is a thin command line over this
package; it needs the ``train`` extra (``pip install 'st-jce[train]'``), not mteb::

    st-jce train cpu-demo --max_steps 50
    python train_st.py configs/cpu-demo.yaml --max_steps 50

Examples
--------
>>> from st_jce.training import parse_args, train
>>> args = parse_args(["configs/cpu-demo.yaml", "--max_steps", "5"])  # doctest: +SKIP
>>> final_dir = train(*args)  # doctest: +SKIP
"""

from st_jce.backbones import resolve_backbone
from st_jce.training.arguments import CodeEmbedderTrainingArguments, DataArguments, LossArguments, ModelArguments, parse_args
from st_jce.training.distillation import teacher_datasets
from st_jce.training.evaluator import LocalRetrievalEvaluator
from st_jce.matryoshka import default_matryoshka_dims, resolve_matryoshka_dims
from st_jce.training.loss import build_loss
from st_jce.training.report import comparison_table
from st_jce.training.run import dataset_prompts, train
from st_jce.training.trainer import CodeEmbedderTrainer

__all__ = [
    "CodeEmbedderTrainer", "CodeEmbedderTrainingArguments", "DataArguments", "LocalRetrievalEvaluator", "LossArguments", "ModelArguments",
    "build_loss", "comparison_table", "dataset_prompts", "default_matryoshka_dims", "parse_args",
    "resolve_backbone", "resolve_matryoshka_dims", "teacher_datasets", "train",
]
