"""The OpenAI-compatible embeddings app of ``st-jce serve``: ``POST /v1/embeddings``, ``GET /v1/models``,
``GET /health``.

Each request is checked whole before it waits for the model (its texts, their token counts against the
model's ``max_seq_length``, its task prefix, its dimensions), then encoded together with the other clients'
requests (:class:`~st_jce.serve.batching.DynamicBatcher`) through ``encode_query`` / ``encode_document``
(:func:`st_jce.search.encoding.encode_texts`). Every error is a JSON body in OpenAI's shape.

Examples
--------
>>> import tempfile, st_jce
>>> from st_jce.testing import random_qwen2
>>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
>>> app = create_app(model, ServeSettings(served_model_name="coder"))
>>> sorted(route.path for route in app.routes if not route.path.startswith(("/docs", "/openapi", "/redoc")))
['/health', '/v1/embeddings', '/v1/models']
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from st_jce._version import __version__
from st_jce.inference import token_lengths
from st_jce.matryoshka import truncate_and_normalize
from st_jce.prefixes import prefix_of, resolve_task_type
from st_jce.search.encoding import encode_texts
from st_jce.serve.batching import DynamicBatcher, EncodeError
from st_jce.serve.requests import (
    ApiError,
    EmbeddingRequest,
    embedding_response,
    parse_request,
    prefix_choice,
    request_texts,
)
from st_jce.serve.settings import INPUT_TYPES, ServeSettings


def create_app(model, settings: ServeSettings) -> FastAPI:
    """The app serving ``model`` (an st-jce model, or any sentence-transformers model with the ``{task}_{role}``
    prompts) under ``settings``; run it with uvicorn.

    Raises
    ------
    ValueError
        If the default task type or input type of ``settings`` is unknown, or the model lacks its prompt.
    """
    task_type = resolve_task_type(settings.task_type)
    if settings.input_type not in INPUT_TYPES:
        raise ValueError(f"input_type {settings.input_type!r} is unknown: use one of {list(INPUT_TYPES)}.")
    prefix_of(model, task_type, INPUT_TYPES[settings.input_type])  # a model without the prompts fails here
    dim = model.get_embedding_dimension()
    batcher = DynamicBatcher(partial(encode_texts, model), max_wait_ms=settings.max_wait_ms,
                             max_batch_tokens=settings.max_batch_tokens)
    created = int(time.time())
    # A fast tokenizer is not safe across threads (each call resets its padding and truncation, so the encode
    # thread could batch unpadded rows): requests are measured with a copy, in a thread of its own.
    counting_tokenizer = copy.deepcopy(model.tokenizer)
    counting_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="st-jce-count")

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        async with batcher:
            yield

    app = FastAPI(title="st-jce embeddings", version=__version__, lifespan=lifespan,
                  description="OpenAI-compatible embeddings with st-jce's task prefixes (docs/serve.md).")
    app.add_exception_handler(ApiError, _api_error_response)
    app.add_exception_handler(HTTPException, _http_error_response)
    app.add_exception_handler(Exception, _unexpected_error_response)

    async def authorized(request: Request) -> None:
        if settings.api_key is None:
            return
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), settings.api_key.encode()):
            raise ApiError("Missing or wrong API key: send the header 'Authorization: Bearer <key>' with the key the "
                           "server was started with (--api-key or ST_JCE_API_KEY).", status=401, code="invalid_api_key")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": settings.served_model_name}

    @app.get("/v1/models", dependencies=[Depends(authorized)])
    async def models() -> dict:
        return {"object": "list", "data": [{"id": settings.served_model_name, "object": "model", "created": created,
                                            "owned_by": "st-jce"}]}

    # The body is read and checked by hand (size limit, OpenAI's error shape); the schema still goes to /docs.
    request_body = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": EmbeddingRequest.model_json_schema()}}}}

    @app.post("/v1/embeddings", dependencies=[Depends(authorized)], openapi_extra=request_body)
    async def embeddings(request: Request) -> JSONResponse:
        embedding_request = parse_request(await _read_body(request, settings.max_body_bytes))
        if embedding_request.model not in (None, settings.served_model_name):
            raise ApiError(f"The model {embedding_request.model!r} does not exist here: this server serves "
                           f"{settings.served_model_name!r} (GET /v1/models).", status=404, param="model",
                           code="model_not_found")
        texts = request_texts(embedding_request, max_inputs=settings.max_inputs)
        task, role = prefix_choice(embedding_request, task_type, settings.input_type)
        if embedding_request.dimensions is not None and embedding_request.dimensions > dim:
            raise ApiError(f"dimensions={embedding_request.dimensions} is above the model's {dim}: ask for 1 to {dim} "
                           "(Matryoshka truncation keeps the first components).", param="dimensions")
        try:
            prefix = prefix_of(model, task, role)
        except ValueError as error:
            raise ApiError(str(error), param="task") from error
        # The tokens the model runs: prefix, text and special tokens (fast, but off the event loop all the same).
        lengths = await asyncio.get_running_loop().run_in_executor(
            counting_thread, token_lengths, counting_tokenizer, [prefix + text for text in texts])
        truncate = settings.truncate if embedding_request.truncate is None else embedding_request.truncate
        too_long = [index for index, length in enumerate(lengths) if length > model.max_seq_length]
        if too_long and not truncate:
            first = too_long[0]
            raise ApiError(f"input[{first}] is {lengths[first]} tokens with its task prefix, above the model's "
                           f"max_seq_length of {model.max_seq_length} ({len(too_long)} such inputs): split it, or send "
                           '"truncate": true to embed its first tokens only.', param="input", code="context_length_exceeded")
        tokens = sum(min(length, model.max_seq_length) for length in lengths)
        try:
            vectors = await batcher.embed(texts, task, role, tokens=tokens)
        except EncodeError as error:
            raise ApiError(str(error), status=500, error_type="server_error") from error
        return JSONResponse(embedding_response(truncate_and_normalize(vectors, embedding_request.dimensions),
                                               encoding_format=embedding_request.encoding_format,
                                               model=settings.served_model_name, prompt_tokens=tokens))

    return app


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 once it passes ``limit`` bytes (before reading it, where it says its size)."""
    too_large = ApiError(f"The request body is larger than {limit} bytes, this server's limit (--max-body-bytes): "
                         "send fewer or shorter inputs per request.", status=413, code="request_too_large")
    if int(request.headers.get("content-length") or 0) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def _api_error_response(_request: Request, error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


async def _http_error_response(request: Request, error: HTTPException) -> JSONResponse:
    # Starlette's own answers (unknown path, wrong method) in OpenAI's error shape too.
    message = f"{request.method} {request.url.path}: {error.detail}"
    return await _api_error_response(request, ApiError(message, status=error.status_code))


async def _unexpected_error_response(request: Request, error: Exception) -> JSONResponse:
    return await _api_error_response(request, ApiError(f"internal error: {type(error).__name__}: {error}", status=500,
                                                       error_type="server_error"))
