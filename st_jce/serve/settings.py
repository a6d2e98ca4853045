"""What ``st-jce serve`` may be told: its limits, defaults and the spellings of the request fields, in one light
module, so the command line reads them without importing the ``serve`` extra (fastapi, uvicorn).

Examples
--------
>>> ServeSettings(served_model_name="coder").task_type, ServeSettings(served_model_name="coder").input_type
('nl2code', 'document')
>>> INPUT_TYPES["search_query"], INPUT_TYPES["passage"]
('query', 'document')
"""

from __future__ import annotations

from dataclasses import dataclass

# input_type as other embedding APIs spell it (Voyage: query/document, Cohere and nomic: search_query /
# search_document, E5-style models: query/passage), mapped to st-jce's two roles.
INPUT_TYPES: dict[str, str] = {"query": "query", "document": "document", "search_query": "query",
                               "search_document": "document", "passage": "document"}

DEFAULT_HOST = "127.0.0.1"  # loopback: reachable from this machine only, unless asked for more
DEFAULT_PORT = 8000
# Editors embed code chunks far more often than they embed questions, so a request that names no role is a
# code document of the natural-language-to-code task.
DEFAULT_TASK_TYPE = "nl2code"
DEFAULT_INPUT_TYPE = "document"
MAX_INPUTS = 2048  # inputs per request: OpenAI's own limit
MAX_BODY_BYTES = 8 * 1024 * 1024  # a full request of 2048 inputs at 512 tokens is about 4 MiB of JSON
# Requests are gathered into one encode until it holds this many tokens (prefixes included) or MAX_WAIT_MS have
# passed since the first; the model then cuts the batch into its own forwards.
MAX_BATCH_TOKENS = 8192
MAX_WAIT_MS = 5.0
API_KEY_ENV = "ST_JCE_API_KEY"


@dataclass(frozen=True)
class ServeSettings:
    """How an app built by :func:`st_jce.serve.app.create_app` answers.

    Parameters
    ----------
    served_model_name : str
        The id ``GET /v1/models`` lists; a request naming another model gets 404.
    api_key : str, optional
        When set, ``/v1/*`` requests need ``Authorization: Bearer <api_key>`` (401 otherwise).
    task_type, input_type : str
        The task type and role of a request that names none.
    truncate : bool
        Whether an input longer than the model's ``max_seq_length`` is cut (``True``) or refused with 400
        (``False``) when the request does not say (its ``truncate`` field).
    max_inputs, max_body_bytes, max_batch_tokens, max_wait_ms
        The limits above: inputs per request, request body (413 beyond), tokens gathered into one encode, and
        how long the first request of a batch waits for others.
    """

    served_model_name: str
    api_key: str | None = None
    task_type: str = DEFAULT_TASK_TYPE
    input_type: str = DEFAULT_INPUT_TYPE
    truncate: bool = False
    max_inputs: int = MAX_INPUTS
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch_tokens: int = MAX_BATCH_TOKENS
    max_wait_ms: float = MAX_WAIT_MS
