"""Run by ``torchrun --nproc_per_node 2`` (gloo) in test_train_torchrun: every process calls ``teacher_vectors`` on
the same texts and saves what it got, and how many texts its own teacher encoded, to ``OUTPUT/rank-R.npz``.

Usage: ``python -m torch.distributed.run --nproc_per_node 2 distributed_teacher_vectors.py TEACHER TEXTS.json OUTPUT``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(teacher_path: str, texts_file: str, output_dir: str) -> None:
    import numpy as np
    import torch.distributed as dist
    from sentence_transformers import SentenceTransformer

    from st_jce.training.distillation import teacher_vectors

    dist.init_process_group("gloo")
    teacher = SentenceTransformer(teacher_path)
    encoded: list[str] = []
    encode = teacher.encode

    def counted_encode(texts, **kwargs):
        encoded.extend(texts)
        return encode(texts, **kwargs)

    teacher.encode = counted_encode
    texts = json.loads(Path(texts_file).read_text())
    vectors = teacher_vectors(teacher, texts, max_seq_length=16, batch_size=2)
    order = list(dict.fromkeys(texts))
    np.savez(Path(output_dir) / f"rank-{dist.get_rank()}.npz", vectors=np.stack([vectors[text] for text in order]),
             encoded=np.array(len(encoded)))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:4])
