"""``st-jce serve`` as users start it: a subprocess serving a saved model on a loopback port."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import openai
import pytest
from serve import served_by_cli  # benchmarks/serve.py
from serve_helpers import client, cosines

from st_jce.cli import build_parser
from st_jce.serve.settings import DEFAULT_HOST, DEFAULT_INPUT_TYPE, DEFAULT_PORT, DEFAULT_TASK_TYPE


def test_defaults_bind_loopback_and_embed_code_documents():
    args = build_parser().parse_args(["serve", "my-model"])
    assert (args.host, args.port, args.task_type, args.input_type) == (DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TASK_TYPE,
                                                                       DEFAULT_INPUT_TYPE)
    assert (DEFAULT_HOST, DEFAULT_TASK_TYPE, DEFAULT_INPUT_TYPE) == ("127.0.0.1", "nl2code", "document")


def test_without_the_serve_extra_the_error_names_it():
    blocked = "import sys; sys.modules['uvicorn'] = None; from st_jce.cli import main; sys.exit(main(['serve', 'm']))"
    finished = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 2 and "pip install 'st-jce[serve]'" in finished.stderr


def test_st_jce_serve_serves_a_saved_model(tiny_model, tmp_path):
    model_dir = tmp_path / "model"
    tiny_model.save_pretrained(str(model_dir))
    with served_by_cli(model_dir, "--served-model-name", "coder", "--dtype", "float32", "--input-type", "query",
                       env={"ST_JCE_API_KEY": "s3cret"}) as url:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as answer:
            assert json.loads(answer.read())["model"] == "coder"
        with pytest.raises(openai.AuthenticationError):  # the key comes from ST_JCE_API_KEY
            client(url, api_key="wrong").models.list()
        served = client(url, api_key="s3cret")
        assert [model.id for model in served.models.list().data] == ["coder"]
        texts = ["parse a yaml config", "merge two sorted lists"]
        response = served.embeddings.create(model="coder", input=texts)
        expected = tiny_model.encode_query(texts, task_type="nl2code")  # --input-type query
        assert cosines([item.embedding for item in response.data], expected).min() >= 0.9999
