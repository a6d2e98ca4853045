"""Bad requests get a 4xx in OpenAI's error shape with a message naming the problem; a failing encode gets 500 for
every request waiting on it, and the server goes on."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import numpy as np
import openai
import pytest
from serve_helpers import SERVED_NAME, client, cosines

LONG_TEXT = "def f(x):\n    return x + 1\n" * 200  # well over the model's 512 tokens


def refused(base_url: str, status: int, **request) -> dict:
    """The error body of a request the server must refuse with ``status``."""
    with pytest.raises(openai.APIStatusError) as refusal:
        client(base_url).embeddings.create(**{"model": SERVED_NAME, "encoding_format": "float", **request})
    assert refusal.value.status_code == status
    error = refusal.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return error


@pytest.mark.parametrize(("request_fields", "param", "words"), [
    ({"input": []}, "input", "empty list"),
    ({"input": ""}, "input", "empty or whitespace"),
    ({"input": ["def f(): pass", "   "]}, "input", "Input 1 is empty"),
    ({"input": ["def f(): pass", 7]}, "input", "Input 1 is int"),
    ({"input": [[1, 2, 3]]}, "input", "Input 0 is list"),  # OpenAI's token-id arrays
    ({"input": {"text": "x"}}, "input", "input is dict"),
    ({"input": "x", "extra_body": {"task": "sql2code"}}, "task", "Unknown task type 'sql2code'"),
    ({"input": "x", "extra_body": {"task_type": "nl2code.question"}}, "task_type", "unknown role 'question'"),
    ({"input": "x", "extra_body": {"input_type": "classification"}}, "input_type", "unknown role 'classification'"),
    ({"input": "x", "extra_body": {"task": "qa", "task_type": "nl2code"}}, "task", "disagree"),
    ({"input": "x", "extra_body": {"task": "qa.query", "input_type": "document"}}, "input_type", "says 'query'"),
    ({"input": "x", "dimensions": 65}, "dimensions", "above the model's 64"),
    ({"input": "x", "dimensions": 0}, "dimensions", "greater than or equal to 1"),
    ({"input": "x", "encoding_format": "hex"}, "encoding_format", "'float' or 'base64'"),
    ({"input": "x", "extra_body": {"truncate": "perhaps"}}, "truncate", "valid boolean"),
    ({"input": ["x", LONG_TEXT]}, "input", "input[1] is"),
])
def test_bad_requests_get_400_naming_the_field(base_url, request_fields, param, words):
    error = refused(base_url, 400, **request_fields)
    assert error["param"] == param and words in error["message"], error


def test_too_long_names_the_limit_and_truncate_embeds_the_first_tokens(base_url, tiny_model):
    message = refused(base_url, 400, input=["x", LONG_TEXT])["message"]
    assert f"max_seq_length of {tiny_model.max_seq_length}" in message and '"truncate": true' in message
    response = client(base_url).embeddings.create(model=SERVED_NAME, input=[LONG_TEXT], encoding_format="float",
                                                  extra_body={"truncate": True})
    # The model itself cuts the text at max_seq_length: the same vector, and the usage counts what it ran.
    expected = tiny_model.encode_document([LONG_TEXT], task_type="nl2code")
    assert cosines([response.data[0].embedding], expected)[0] >= 0.9999
    assert response.usage.prompt_tokens == tiny_model.max_seq_length


def test_the_server_wide_truncate_default(serve):
    response = client(serve(truncate=True)).embeddings.create(model=SERVED_NAME, input=[LONG_TEXT])
    assert len(response.data) == 1


def test_a_wrong_model_name_gets_404(base_url):
    error = refused(base_url, 404, input="x", model="text-embedding-3-small")
    assert error["code"] == "model_not_found" and SERVED_NAME in error["message"]


def test_too_many_inputs(serve):
    error = refused(serve(max_inputs=4), 400, input=["x"] * 5)
    assert "5 texts, more than the 4" in error["message"] and error["code"] == "too_many_inputs"


def test_a_body_over_the_limit_gets_413(serve):
    url = serve(max_body_bytes=2000)
    assert "larger than 2000 bytes" in refused(url, 413, input=["def f(): pass"] * 200)["message"]
    assert len(client(url).embeddings.create(model=SERVED_NAME, input=["def f(): pass"] * 5).data) == 5


def raw_post(url: str, data: bytes, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method="POST", data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_body_that_is_not_a_json_object(base_url):
    status, body = raw_post(f"{base_url}/v1/embeddings", b"input=hello")
    assert status == 400 and "not JSON" in body["error"]["message"]
    status, body = raw_post(f"{base_url}/v1/embeddings", b'["hello"]')
    assert status == 400 and "object" in body["error"]["message"]
    status, body = raw_post(f"{base_url}/v1/embeddings", b'{"model": "tiny-coder"}')
    assert status == 400 and body["error"]["param"] == "input" and "required" in body["error"]["message"]


def test_unknown_paths_and_methods_answer_in_the_error_shape(base_url):
    status, body = raw_post(f"{base_url}/v1/chat/completions", b"{}")
    assert status == 404 and "/v1/chat/completions" in body["error"]["message"]
    status, body = raw_post(f"{base_url}/v1/models", b"{}")
    assert status == 405 and body["error"]["message"]


def test_the_api_key(serve):
    url = serve(api_key="s3cret")
    with pytest.raises(openai.AuthenticationError) as refusal:
        client(url, api_key="wrong").embeddings.create(model=SERVED_NAME, input="x")
    assert refusal.value.response.json()["error"]["code"] == "invalid_api_key"
    status, body = raw_post(f"{url}/v1/embeddings", b'{"input": "x"}')  # no Authorization header at all
    assert status == 401 and "Authorization: Bearer" in body["error"]["message"]
    with pytest.raises(openai.AuthenticationError):
        client(url, api_key="wrong").models.list()
    assert len(client(url, api_key="s3cret").embeddings.create(model=SERVED_NAME, input="x").data) == 1
    with urllib.request.urlopen(f"{url}/health", timeout=10) as answer:  # health stays open to probes
        assert answer.status == 200


def test_a_failing_encode_answers_every_waiting_request_with_500(serve, tiny_model, monkeypatch):
    url = serve(max_wait_ms=200)  # long enough that the requests below share one batch

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory (simulated)")

    monkeypatch.setattr(tiny_model, "encode_document", broken)
    errors = [None] * 6

    def request(position: int) -> None:
        with pytest.raises(openai.InternalServerError) as failure:
            client(url).embeddings.create(model=SERVED_NAME, input=[f"def f{position}(): pass"])
        errors[position] = failure.value.response.json()["error"]

    threads = [threading.Thread(target=request, args=(position,)) for position in range(len(errors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(error and "out of memory (simulated)" in error["message"] and error["type"] == "server_error"
               for error in errors), errors
    monkeypatch.undo()
    vectors = client(url).embeddings.create(model=SERVED_NAME, input=["def g(): pass"]).data
    expected = tiny_model.encode_document(["def g(): pass"], task_type="nl2code")
    assert cosines([vectors[0].embedding], expected)[0] >= 0.9999 and np.isfinite(vectors[0].embedding).all()
