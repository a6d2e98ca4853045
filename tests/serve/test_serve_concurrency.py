"""32 concurrent clients × 20 requests each: every request answered within a bound, none lost, each with the
vectors of its own texts (not a neighbour's), and the requests shared encodes (dynamic batching)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from serve_helpers import SERVED_NAME, client, cosines

from st_jce.serve import batching

CLIENTS, REQUESTS = 32, 20
ROLES = ("query", "document")


def request_texts(client_id: int, request_id: int) -> list[str]:
    """One to three texts, different for every request (so that an answer can only match its own) and of different
    lengths (so that batches need padding)."""
    return [f"def handler_{client_id}_{request_id}_{part}(event):\n" + "    event = event.step()\n" * (request_id % 4)
            + f"    return event.{'xyz'[part]} * {client_id + part}" for part in range(1 + (client_id + request_id) % 3)]


def test_concurrent_clients_each_get_their_own_vectors(base_url, tiny_model, monkeypatch):
    encodes = []
    encode_batch = batching.DynamicBatcher._encode_batch
    monkeypatch.setattr(batching.DynamicBatcher, "_encode_batch",
                        lambda self, batch: encodes.append(len(batch)) or encode_batch(self, batch))

    def run_client(client_id: int) -> list[tuple[str, list[str], np.ndarray, float]]:
        openai_client, answers = client(base_url), []
        for request_id in range(REQUESTS):
            texts, role = request_texts(client_id, request_id), ROLES[(client_id + request_id) % 2]
            start = time.perf_counter()
            response = openai_client.embeddings.create(model=SERVED_NAME, input=texts, extra_body={"input_type": role})
            answers.append((role, texts, np.array([item.embedding for item in response.data]),
                            time.perf_counter() - start))
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [answer for answers in pool.map(run_client, range(CLIENTS)) for answer in answers]

    assert len(answers) == CLIENTS * REQUESTS
    assert max(seconds for *_, seconds in answers) < 30
    # Fewer encodes than requests: concurrent requests were batched together.
    assert sum(encodes) == CLIENTS * REQUESTS and len(encodes) < CLIENTS * REQUESTS / 2
    for role in ROLES:
        mine = [(texts, vectors) for answer_role, texts, vectors, _ in answers if answer_role == role]
        texts = [text for request, _ in mine for text in request]
        encode = tiny_model.encode_query if role == "query" else tiny_model.encode_document
        expected = encode(texts, task_type="nl2code")
        got = np.concatenate([vectors for _, vectors in mine])
        assert cosines(got, expected).min() >= 0.9999
        # Each answer is nearest to its own text's vector among all texts of its role.
        assert (np.argmax(got @ expected.T, axis=1) == np.arange(len(texts))).all()
