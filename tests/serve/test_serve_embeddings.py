"""``POST /v1/embeddings`` through the official OpenAI client: the vectors are the model's own ``encode_query`` /
``encode_document`` ones, under every spelling of the task prefix, truncated, as floats and as base64."""

from __future__ import annotations

import base64
import json
import urllib.request

import numpy as np
import pytest
from serve_helpers import SERVED_NAME, client, cosines

TEXTS = ["def area(radius):\n    return 3.14159 * radius ** 2", "read a CSV file into a list of dicts",
         "class Stack:\n    def push(self, item):\n        self.items.append(item)"]


def served(base_url: str, **request) -> list[list[float]]:
    response = client(base_url).embeddings.create(model=SERVED_NAME, **request)
    assert [item.index for item in response.data] == list(range(len(response.data)))
    return [item.embedding for item in response.data]


@pytest.mark.parametrize(("fields", "task_type", "role"), [
    ({}, "nl2code", "document"),  # the documented default: code documents of nl2code
    ({"input_type": "query"}, "nl2code", "query"),
    ({"input_type": "search_query", "task": "qa"}, "qa", "query"),
    ({"input_type": "passage", "task_type": "code2code"}, "code2code", "document"),
    ({"input_type": "search_document", "task": "techqa"}, "qa", "document"),
    ({"task": "code2nl.query"}, "code2nl", "query"),  # Jina's API spelling
    ({"task_type": "code2completion.passage"}, "code2completion", "document"),
])
def test_vectors_are_the_models_own_for_each_prefix_choice(base_url, tiny_model, fields, task_type, role):
    encode = tiny_model.encode_query if role == "query" else tiny_model.encode_document
    expected = encode(TEXTS, task_type=task_type)
    got = served(base_url, input=TEXTS, encoding_format="float", extra_body=fields)
    assert cosines(got, expected).min() >= 0.9999
    # Another prefix gives other vectors, so the match above says which prefix was applied.
    other = (tiny_model.encode_document if role == "query" else tiny_model.encode_query)(TEXTS, task_type=task_type)
    assert cosines(got, other).max() < 0.9999


def test_dimensions_truncate_and_renormalize(base_url, tiny_model):
    full = tiny_model.encode_query(TEXTS, task_type="nl2code")
    got = np.array(served(base_url, input=TEXTS, dimensions=16, encoding_format="float",
                          extra_body={"input_type": "query"}))
    assert got.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    assert cosines(got, full[:, :16]).min() >= 0.9999


def test_base64_is_little_endian_float32(base_url, tiny_model):
    expected = tiny_model.encode_document(TEXTS[:2], task_type="nl2code")
    raw = served(base_url, input=TEXTS[:2], encoding_format="base64")
    decoded = np.stack([np.frombuffer(base64.b64decode(text), dtype="<f4") for text in raw])
    assert cosines(decoded, expected).min() >= 0.9999
    # Without encoding_format the client itself asks for base64 and decodes it: the same vectors.
    np.testing.assert_allclose(served(base_url, input=TEXTS[:2]), decoded, atol=1e-7)


def test_a_single_string_and_the_response_shape(base_url, tiny_model):
    request = urllib.request.Request(f"{base_url}/v1/embeddings", method="POST", data=json.dumps(
        {"input": TEXTS[0], "model": SERVED_NAME, "user": "someone"}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = json.loads(answer.read())
    assert set(body) == {"object", "data", "model", "usage"} and (body["object"], body["model"]) == ("list", SERVED_NAME)
    assert [(item["object"], item["index"]) for item in body["data"]] == [("embedding", 0)]
    expected = tiny_model.encode_document([TEXTS[0]], task_type="nl2code")
    assert cosines([body["data"][0]["embedding"]], expected)[0] >= 0.9999
    # usage: the tokens the model runs, counted with its own tokenizer (prefix, text, end-of-text token).
    prefix = tiny_model.prompts["nl2code_document"]
    tokens = len(tiny_model.tokenizer(prefix + TEXTS[0])["input_ids"])
    assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}


def test_server_defaults_apply_to_requests_that_name_nothing(serve, tiny_model):
    url = serve(task_type="qa", input_type="search_query")
    expected = tiny_model.encode_query(TEXTS, task_type="qa")
    assert cosines(served(url, input=TEXTS), expected).min() >= 0.9999


def test_models_and_health(base_url):
    models = client(base_url).models.list()
    assert [model.id for model in models.data] == [SERVED_NAME]
    with urllib.request.urlopen(f"{base_url}/health", timeout=10) as answer:
        assert json.loads(answer.read())["status"] == "ok"
