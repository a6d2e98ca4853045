"""Cross-device negatives: two processes holding B pairs each give the loss and gradients of one process
holding the 2B-pair union batch (gloo, CPU)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from test_train_loss import DOCUMENTS, QUERIES, batch_features, loss_and_gradients
from train_helpers import free_port

import st_jce
from st_jce.training import LossArguments, build_loss

WORLD_SIZE = 2


def double_precision_model(model_dir: str):
    # float64, so that float rounding (different matmul shapes per process) stays far below the tolerance.
    return st_jce.build_model(model_dir, dtype="float32", max_seq_length=32).to(torch.float64)


def rank_worker(rank: int, port: int, model_dir: str, result_dir: str) -> None:
    """One DDP rank: its half of the batch, gathered negatives, gradients averaged over ranks as DDP does."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE)
    try:
        model = double_precision_model(model_dir)
        half = len(QUERIES) // WORLD_SIZE
        features = batch_features(model, QUERIES[rank * half:(rank + 1) * half],
                                  DOCUMENTS[rank * half:(rank + 1) * half])
        results = {}
        for cached in (False, True):
            loss_fn = build_loss(model, LossArguments(gather_across_devices=True, cached=cached, mini_batch_size=2))
            loss, grads = loss_and_gradients(model, loss_fn, features)
            for tensor in [loss, *grads.values()]:
                dist.all_reduce(tensor)
                tensor /= WORLD_SIZE
            results[cached] = {"loss": loss, "grads": grads}
        torch.save(results, os.path.join(result_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def distributed_results(tiny_qwen_dir, tmp_path_factory):
    """Loss and DDP-averaged gradients of two gloo processes, plain and cached loss."""
    result_dir = tmp_path_factory.mktemp("parity")
    mp.spawn(rank_worker, args=(free_port(), tiny_qwen_dir, str(result_dir)), nprocs=WORLD_SIZE, join=True)
    return torch.load(result_dir / "rank0.pt")


@pytest.mark.parametrize("cached", [False, True], ids=["plain", "cached"])
def test_two_processes_with_gathered_negatives_match_one_process_on_the_union(tiny_qwen_dir, distributed_results,
                                                                             cached):
    distributed = distributed_results[cached]
    model = double_precision_model(tiny_qwen_dir)
    single_loss, single_grads = loss_and_gradients(model, build_loss(model, LossArguments(cached=cached)),
                                                   batch_features(model))

    assert abs(distributed["loss"].item() - single_loss.item()) <= 1e-5
    assert distributed["grads"].keys() == single_grads.keys()
    worst = max((distributed["grads"][name] - single_grads[name]).abs().max().item() for name in single_grads)
    assert worst <= 1e-5, f"largest gradient difference {worst:.2e}"
    # Without the other process's documents as negatives the loss would be clearly different.
    half = len(QUERIES) // WORLD_SIZE
    local_only = build_loss(model, LossArguments())(
        [dict(f) for f in batch_features(model, QUERIES[:half], DOCUMENTS[:half])], None)
    assert abs(local_only.item() - single_loss.item()) > 1e-2
