"""Each install extra does its job without the others: ``pip install st-jce`` encodes and loads with none of
the ``train`` / ``eval`` packages, and ``st-jce[train]`` trains and evaluates its local folders without mteb.

Each check runs in a fresh interpreter in which the packages of the other extras look uninstalled: they
cannot be imported and have no distribution metadata (sentence-transformers and transformers decide what
is installed from that metadata).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from training.train_helpers import run_argv, write_beir_folder, write_pairs

import st_jce
from st_jce.evaluation import evaluate

REPO = Path(__file__).resolve().parents[1]
# Import name -> distribution name of what the eval extra installs beyond the core and training
# (pytrec_eval is mteb's scorer) ...
EVAL_ONLY = {"mteb": "mteb", "matplotlib": "matplotlib", "pytrec_eval": "pytrec-eval-terrier"}
# ... and of what the train extra installs beyond the core (pyyaml comes with transformers, so with the core).
TRAIN_ONLY = {"datasets": "datasets", "pyarrow": "pyarrow"}

# Runs first in the child: wraps every import finder so that the blocked packages are neither found nor listed.
WITHOUT_PACKAGES = '''
import importlib.metadata, re, sys

BLOCKED = {blocked!r}  # import name -> distribution name


def _normalized(name):
    return re.sub(r"[-_.]+", "-", name or "").lower()


class Uninstalled:
    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            return None
        return self.finder.find_spec(name, path, target)

    def find_distributions(self, context=importlib.metadata.DistributionFinder.Context()):
        found = getattr(self.finder, "find_distributions", lambda context: [])(context)
        blocked = {{_normalized(name) for name in BLOCKED.values()}}
        return [dist for dist in found if _normalized(dist.metadata["Name"]) not in blocked]

    def invalidate_caches(self):
        getattr(self.finder, "invalidate_caches", lambda: None)()


sys.meta_path[:] = [Uninstalled(finder) for finder in sys.meta_path]
for _module, _distribution in BLOCKED.items():
    try:
        __import__(_module)
        raise SystemExit(f"{{_module}} is still importable: the block failed")
    except ModuleNotFoundError:
        pass
    try:
        importlib.metadata.distribution(_distribution)
        raise SystemExit(f"{{_distribution}} is still listed as installed: the block failed")
    except importlib.metadata.PackageNotFoundError:
        pass
'''


def run_without(packages: dict[str, str], script: str, *args: str) -> dict:
    """Run ``script`` in a child Python where ``packages`` (import name -> distribution name) look
    uninstalled; return the JSON object it prints last."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", WITHOUT_PACKAGES.format(blocked=packages) + script, *args],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


CORE_JOB = '''
import json
import st_jce

model = st_jce.build_model(sys.argv[1], max_seq_length=32)
embedding = model.encode_query(["sort a list of numbers"], task_type="nl2code")
model.save_pretrained(sys.argv[2])
reloaded = st_jce.load(sys.argv[2]).encode_query(["sort a list of numbers"], task_type="nl2code")
print(json.dumps({"embedding": embedding[0].tolist(), "reloaded": reloaded[0].tolist()}))
'''


def test_the_core_encodes_saves_and_loads_without_the_train_and_eval_packages(tiny_qwen_dir, tmp_path):
    child = run_without({**EVAL_ONLY, **TRAIN_ONLY}, CORE_JOB, tiny_qwen_dir, str(tmp_path / "saved"))

    # The same model, encoded here with every package installed.
    expected = st_jce.build_model(tiny_qwen_dir, max_seq_length=32).encode_query(["sort a list of numbers"],
                                                                                 task_type="nl2code")[0]
    np.testing.assert_allclose(child["embedding"], expected, atol=1e-5)
    np.testing.assert_allclose(child["reloaded"], expected, atol=1e-5)


TRAIN_JOB = '''
import json
from st_jce.training import parse_args, train

final_dir = train(*parse_args(json.loads(sys.argv[1])))
print(json.dumps({"final_dir": str(final_dir)}))
'''


def test_training_runs_and_evaluates_without_mteb(tiny_qwen_dir, tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl")
    folder = write_beir_folder(tmp_path / "synthetic-code", write_pairs(tmp_path / "eval.jsonl", count=24))
    argv = run_argv(tiny_qwen_dir, pairs, tmp_path / "run", max_steps=2, bf16="false",
                    eval_data=[f"{folder}:nl2code"], per_device_eval_batch_size=16)
    child = run_without(EVAL_ONLY, TRAIN_JOB, json.dumps(argv))

    final_dir = Path(child["final_dir"])
    assert (final_dir / "model.safetensors").is_file()
    before = json.loads((tmp_path / "run" / "eval" / "step-0" / "summary.json").read_text())
    after = json.loads((tmp_path / "run" / "eval" / "step-2" / "summary.json").read_text())
    assert before["tasks"]["synthetic-code"]["task_type"] == "nl2code"
    # The trained model's nDCG@10 is the one `st-jce eval` (mteb) measures on the saved model.
    measured = evaluate(str(final_dir), data=[f"{folder}:nl2code"], output_dir=tmp_path / "mteb", batch_size=16,
                        max_seq_length=32, dtype=None, show_progress_bar=False)
    assert after["tasks"]["synthetic-code"]["by_dim"] == pytest.approx(
        {str(dim): score for dim, score in measured["tasks"]["synthetic-code"]["by_dim"].items()}, abs=1e-4)
