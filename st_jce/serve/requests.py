"""The request and response of ``POST /v1/embeddings`` in OpenAI's shapes, and the errors a request can get.

A request is OpenAI's (``input``, ``model``, ``dimensions``, ``encoding_format``, ``user``) plus st-jce's choice of
task prefix: ``input_type`` (``query`` / ``document``, or the spellings of :data:`~st_jce.serve.settings.INPUT_TYPES`)
and ``task`` or ``task_type`` (a task type of :mod:`st_jce.prefixes`, or Jina's API spelling ``nl2code.query``),
and ``truncate``. Every problem is an :class:`ApiError`, which the app answers in OpenAI's error shape.

Examples
--------
>>> request = parse_request(b'{"input": "def f(): pass", "model": "coder", "task": "code2code.query"}')
>>> request_texts(request, max_inputs=8), prefix_choice(request, "nl2code", "document")
(['def f(): pass'], ('code2code', 'query'))
>>> parse_request(b'{"input": "x", "encoding_format": "hex"}')
Traceback (most recent call last):
...
st_jce.serve.requests.ApiError: encoding_format: Input should be 'float' or 'base64'
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from st_jce.modules.prefix_prompt import check_texts
from st_jce.prefixes import resolve_task_type
from st_jce.serve.settings import INPUT_TYPES


class ApiError(Exception):
    """A request the server answers with ``status`` and OpenAI's error body: ``{"error": {"message", "type",
    "param", "code"}}``."""

    def __init__(self, message: str, *, status: int = 400, param: str | None = None, code: str | None = None,
                 error_type: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.message, self.status, self.param, self.code, self.error_type = message, status, param, code, error_type

    def body(self) -> dict[str, dict[str, Any]]:
        """The JSON body of the answer.

        Examples
        --------
        >>> ApiError("input is empty", param="input").body()
        {'error': {'message': 'input is empty', 'type': 'invalid_request_error', 'param': 'input', 'code': None}}
        """
        return {"error": {"message": self.message, "type": self.error_type, "param": self.param, "code": self.code}}


class EmbeddingRequest(BaseModel):
    """The body of ``POST /v1/embeddings``; fields it does not know (OpenAI's ``user``, say) are ignored."""

    model_config = ConfigDict(extra="ignore")

    input: Any = Field(description="a string, or a list of strings (OpenAI's token-id arrays are not accepted)")
    model: str | None = Field(None, description="the served model's id (GET /v1/models); any other is refused")
    dimensions: int | None = Field(None, ge=1, description="Matryoshka truncation: the first N components, unit length")
    encoding_format: Literal["float", "base64"] = Field("float", description="base64: little-endian float32 bytes")
    input_type: str | None = Field(None, description="query or document (search_query, search_document, passage)")
    task: str | None = Field(None, description="task type (nl2code, qa, code2code, code2nl, code2completion), "
                                               "optionally with the role: nl2code.query")
    task_type: str | None = Field(None, description="the same as task")
    truncate: bool | None = Field(None, description="cut inputs longer than the model's max_seq_length instead of "
                                                    "refusing them (default: the server's --truncate)")


def parse_request(body: bytes) -> EmbeddingRequest:
    """The request in ``body``; :class:`ApiError` naming the field for what is not JSON or not a valid request."""
    example = '{"input": ["def f(): pass"], "model": "..."}'
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(f"The request body is not JSON ({error}): send a JSON object such as {example}.") from error
    if not isinstance(payload, dict):
        raise ApiError(f"The request body is a JSON {type(payload).__name__}, not an object: send one such as {example}.")
    try:
        return EmbeddingRequest.model_validate(payload)
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise ApiError(f"{field or 'body'}: {problem['msg']}", param=field or None) from error


def request_texts(request: EmbeddingRequest, *, max_inputs: int) -> list[str]:
    """The texts to embed, in order: ``input`` as a list, each a non-blank string, at most ``max_inputs``."""
    texts = [request.input] if isinstance(request.input, str) else request.input
    if not isinstance(texts, list):
        raise ApiError(f"input is {type(texts).__name__}: send a string or a list of strings.", param="input")
    if not texts:
        raise ApiError("input is an empty list: send at least one string.", param="input")
    if len(texts) > max_inputs:
        raise ApiError(f"input holds {len(texts)} texts, more than the {max_inputs} this server takes in one request: "
                       "split it into several requests.", param="input", code="too_many_inputs")
    try:
        check_texts(texts)
    except (TypeError, ValueError) as error:
        raise ApiError(f"input: {error}", param="input") from error
    return texts


def prefix_choice(request: EmbeddingRequest, task_type: str, input_type: str) -> tuple[str, str]:
    """The (task type, role) whose prefix the request's texts get; ``task_type`` / ``input_type`` where it names
    none. ``task`` and ``task_type`` may carry the role too (``nl2code.query``); what a request says twice must
    agree."""
    role = _role(request.input_type, "input_type") if request.input_type is not None else None
    named = {name: value for name, value in (("task", request.task), ("task_type", request.task_type))
             if value is not None}
    if len(set(named.values())) > 1:
        raise ApiError(f"task={request.task!r} and task_type={request.task_type!r} disagree: send one of them.",
                       param="task")
    for name, value in named.items():
        task_name, _, role_name = str(value).partition(".")
        try:
            task_type = resolve_task_type(task_name)
        except ValueError as error:
            raise ApiError(f"{name}: {error}", param=name) from error
        task_role = _role(role_name, name) if role_name else None
        if role is not None and task_role not in (None, role):
            raise ApiError(f"{name}={value!r} says {task_role!r} but input_type={request.input_type!r} says {role!r}: "
                           "send one of them.", param="input_type")
        role = role or task_role
    return task_type, role or INPUT_TYPES[input_type]


def _role(spelling: str, field: str) -> str:
    role = INPUT_TYPES.get(str(spelling).strip().lower())
    if role is None:
        raise ApiError(f"{field}: unknown role {spelling!r}; use one of {list(INPUT_TYPES)} (query or document).",
                       param=field)
    return role


def embedding_response(vectors: np.ndarray, *, encoding_format: str, model: str, prompt_tokens: int) -> dict:
    """OpenAI's embeddings response: one entry per row of ``vectors``, as floats or as base64 of little-endian
    float32 bytes.

    Examples
    --------
    >>> response = embedding_response(np.array([[0.6, 0.8]]), encoding_format="base64", model="coder", prompt_tokens=3)
    >>> np.frombuffer(base64.b64decode(response["data"][0]["embedding"]), dtype="<f4").tolist(), response["usage"]
    ([0.6000000238418579, 0.800000011920929], {'prompt_tokens': 3, 'total_tokens': 3})
    """
    rows = np.asarray(vectors, dtype="<f4")
    if encoding_format == "base64":
        embeddings = [base64.b64encode(row.tobytes()).decode("ascii") for row in rows]
    else:
        embeddings = rows.tolist()
    return {"object": "list",
            "data": [{"object": "embedding", "index": index, "embedding": embedding}
                     for index, embedding in enumerate(embeddings)],
            "model": model, "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}}
