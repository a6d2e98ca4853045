"""Run by ``torchrun --nproc_per_node 2`` (gloo) in test_train_unpadded: each process takes its half of the pairs
of test_train_unpadded, runs the recipe's loss on them unpadded with the documents of both processes as negatives
(``gather_across_devices``), and process 0 saves the mean loss and the gradients averaged over the processes (as
DDP averages them) to ``OUTPUT/ddp.pt``.

Usage: ``python -m torch.distributed.run --nproc_per_node 2 distributed_unpadded_loss.py MODEL OUTPUT CACHED``
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(model_dir: str, output_dir: str, cached: str) -> None:
    import torch
    import torch.distributed as dist
    from test_train_unpadded import DOCUMENTS, QUERIES, build, count_backbone_rows, features_of, loss_and_gradients

    from st_jce.training import LossArguments, build_loss

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    share = len(QUERIES) // world
    mine = slice(rank * share, (rank + 1) * share)
    model = build(model_dir, "right", "last_token", unpad_inputs=None)  # the default rule: training unpads
    shapes = count_backbone_rows(model)
    loss_fn = build_loss(model, LossArguments(cached=cached == "1", mini_batch_size=2, matryoshka_dims=[64, 32]))
    assert loss_fn.loss.gather_across_devices
    loss, grads = loss_and_gradients(model, loss_fn, features_of(model, QUERIES[mine], DOCUMENTS[mine]))
    assert shapes and all(rows == 1 for rows, _ in shapes), shapes
    total = torch.tensor(loss, dtype=torch.float64)
    dist.all_reduce(total)
    for grad in grads.values():
        dist.all_reduce(grad)
        grad /= world
    if rank == 0:
        torch.save({"loss": total.item() / world, "grads": grads}, Path(output_dir) / "ddp.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main(*sys.argv[1:])
