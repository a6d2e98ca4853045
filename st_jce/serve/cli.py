"""``st-jce serve``: the command-line face of :func:`~st_jce.serve.app.create_app`. :func:`add_commands` registers it
on ``st-jce``'s parser; fastapi and uvicorn come with the ``serve`` extra and are imported when it runs.

Examples
--------
::

    st-jce serve ./my-code-embedder
    st-jce serve ./my-code-embedder --served-model-name code --port 8080 --input-type query
    ST_JCE_API_KEY=secret st-jce serve jinaai/jina-code-embeddings-0.5b --host 0.0.0.0
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from st_jce.extras import import_extra
from st_jce.prefixes import TASK_TYPES
from st_jce.serve.settings import (
    API_KEY_ENV,
    DEFAULT_HOST,
    DEFAULT_INPUT_TYPE,
    DEFAULT_PORT,
    DEFAULT_TASK_TYPE,
    INPUT_TYPES,
    MAX_BATCH_TOKENS,
    MAX_BODY_BYTES,
    MAX_INPUTS,
    MAX_WAIT_MS,
    ServeSettings,
)

DESCRIPTION = ("Serve MODEL over HTTP: POST /v1/embeddings (OpenAI's request and response, plus input_type and task for "
               "st-jce's prefixes), GET /v1/models, GET /health. Requests of concurrent clients are encoded together. "
               "Guide: docs/serve.md.")


def add_commands(commands) -> None:
    """Add ``serve`` to the subparsers ``commands`` of ``st-jce``."""
    serve = commands.add_parser("serve", help="Serve a model as an OpenAI-compatible embeddings API.",
                                description=DESCRIPTION)
    serve.add_argument("model", metavar="MODEL", help="st-jce model directory or Hub id (or any sentence-transformers "
                       "model with the {task}_query / {task}_document prompts)")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default: {DEFAULT_HOST}, this machine "
                       "only; 0.0.0.0 opens it to the network: set an API key)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    serve.add_argument("--served-model-name", help="the model id clients send and GET /v1/models lists (default: MODEL "
                       "as given)")
    serve.add_argument("--api-key", default=os.environ.get(API_KEY_ENV),
                       help=f"require 'Authorization: Bearer KEY' on /v1/* (default: ${API_KEY_ENV}, else no key)")
    serve.add_argument("--task-type", default=DEFAULT_TASK_TYPE, choices=TASK_TYPES,
                       help=f"task type of requests that name none (default: {DEFAULT_TASK_TYPE})")
    serve.add_argument("--input-type", default=DEFAULT_INPUT_TYPE, choices=INPUT_TYPES,
                       help=f"role of requests that name none (default: {DEFAULT_INPUT_TYPE}: editors mostly embed "
                            "code chunks)")
    serve.add_argument("--truncate", action="store_true", help="cut inputs longer than the model's max_seq_length "
                       "when a request does not say (default: refuse them with 400)")
    serve.add_argument("--max-inputs", type=int, default=MAX_INPUTS,
                       help=f"texts per request at most (default: {MAX_INPUTS})")
    serve.add_argument("--max-body-bytes", type=int, default=MAX_BODY_BYTES,
                       help=f"request body size at most, 413 beyond (default: {MAX_BODY_BYTES})")
    serve.add_argument("--max-batch-tokens", type=int, default=MAX_BATCH_TOKENS,
                       help=f"tokens gathered from concurrent requests into one encode (default: {MAX_BATCH_TOKENS})")
    serve.add_argument("--max-wait-ms", type=float, default=MAX_WAIT_MS,
                       help=f"how long a request waits for others to share its encode (default: {MAX_WAIT_MS})")
    serve.add_argument("--device", help="where the model runs, e.g. cpu, cuda:0 (default: the best there is)")
    serve.add_argument("--dtype", default="auto", help="compute dtype: auto (bf16 where the hardware runs it natively, "
                       "else fp32), float32, bfloat16, float16 (default: auto)")
    serve.add_argument("--log-level", default="info", help="uvicorn's log level (default: info)")
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> None:
    """Handle ``st-jce serve``: load the model, then serve until interrupted."""
    uvicorn = import_extra("uvicorn", extra="serve")
    create_app = import_extra("st_jce.serve.app", extra="serve").create_app
    from st_jce.model.loading import load_model

    settings = ServeSettings(
        served_model_name=args.served_model_name or args.model, api_key=args.api_key or None,
        task_type=args.task_type, input_type=args.input_type, truncate=args.truncate, max_inputs=args.max_inputs,
        max_body_bytes=args.max_body_bytes, max_batch_tokens=args.max_batch_tokens, max_wait_ms=args.max_wait_ms)
    if settings.api_key is None and not _is_loopback(args.host):
        print(f"st-jce serve: warning: {args.host} is reachable from other machines and no API key is set "
              f"(--api-key or {API_KEY_ENV}).", file=sys.stderr)
    app = create_app(load_model(args.model, device=args.device, dtype=args.dtype), settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only.

    Examples
    --------
    >>> _is_loopback("127.0.0.1"), _is_loopback("localhost"), _is_loopback("0.0.0.0")
    (True, True, False)
    """
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
