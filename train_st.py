"""Train a code embedding model with the jina-code-embeddings recipe, from a checkout.

    python train_st.py CONFIG [--key value ...]
    torchrun --nproc_per_node 4 train_st.py configs/jce-0.5b.yaml
    accelerate launch --config_file configs/accelerate/deepspeed-zero2-1.5b.yaml train_st.py configs/jce-1.5b.yaml

CONFIG is a YAML file or the name of a config shipped with st-jce (``cpu-demo``, ``jce-0.5b``, ...). Every
key of the config can be overridden on the command line; ``--help`` lists them all with their defaults.
This is ``st-jce train`` (:func:`st_jce.training.cli.run_train`), which an installed st-jce runs the same way.
"""

import sys

from st_jce.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
