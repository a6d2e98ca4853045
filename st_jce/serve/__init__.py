"""Serve a model over HTTP: ``st-jce serve``, OpenAI-compatible embeddings with st-jce's task prefixes.

Needs the ``serve`` extra (``pip install 'st-jce[serve]'``: fastapi, uvicorn). The parts:
:mod:`~st_jce.serve.settings` (limits and defaults, light), :mod:`~st_jce.serve.requests` (request, response and
errors in OpenAI's shapes), :mod:`~st_jce.serve.batching` (requests of concurrent clients in one encode),
:mod:`~st_jce.serve.app` (the FastAPI app) and :mod:`~st_jce.serve.cli` (the command). The names below are
imported on first use, so ``st-jce --help`` runs without the extra. Guide: ``docs/serve.md``.

Examples
--------
>>> from st_jce.serve import ServeSettings, create_app
>>> app = create_app(model, ServeSettings(served_model_name="my-code-embedder"))  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from st_jce.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "st_jce.serve.app": ("create_app",),
    "st_jce.serve.batching": ("DynamicBatcher", "EncodeError"),
    "st_jce.serve.settings": ("ServeSettings",),
})
