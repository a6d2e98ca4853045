"""Train a code embedding model with the jina-code-embeddings recipe.

    python train_st.py CONFIG.yaml [--key value ...]
    torchrun --nproc_per_node 4 train_st.py configs/jce-0.5b.yaml
    accelerate launch --config_file configs/accelerate/fsdp-1.5b.yaml train_st.py configs/jce-1.5b.yaml

Every key of the config can be overridden on the command line; ``--help`` lists them all with their
defaults. The work is done by :mod:`st_jce.training`.
"""

from st_jce.training import parse_args, train

if __name__ == "__main__":
    train(*parse_args())
