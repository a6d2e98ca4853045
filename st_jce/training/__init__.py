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

from st_jce.lazy import lazy_exports

# Imported on first use: the training modules need the `train` extra (datasets), its command line does not.
__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "st_jce.training.arguments": ("CodeEmbedderTrainingArguments", "DataArguments", "LossArguments", "ModelArguments",
                                  "parse_args"),
    "st_jce.training.distillation": ("teacher_datasets",),
    "st_jce.training.evaluator": ("LocalRetrievalEvaluator",),
    "st_jce.training.loss": ("build_loss",),
    "st_jce.training.run": ("dataset_prompts", "train"),
    "st_jce.training.trainer": ("CodeEmbedderTrainer",),
})
