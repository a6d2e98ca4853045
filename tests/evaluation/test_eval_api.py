"""``st_jce.evaluate`` is the evaluation of ``st-jce eval``, and ``import st_jce`` does not pull in mteb."""

import subprocess
import sys


def test_st_jce_evaluate_loads_mteb_on_first_use_only():
    code = (
        "import sys, st_jce\n"
        "assert 'mteb' not in sys.modules, 'import st_jce imported mteb'\n"
        "from st_jce.evaluation import evaluate\n"
        "assert st_jce.evaluate is evaluate\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
