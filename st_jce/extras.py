"""Commands whose packages come with an st-jce extra: import them, or say which extra installs them.

Examples
--------
>>> import_extra("json", extra="core").__name__
'json'
"""

from __future__ import annotations

import importlib


class MissingExtraError(ModuleNotFoundError):
    """A command needs a package that one of st-jce's extras installs; the message names the extra."""


def import_extra(module: str, *, extra: str):
    """``importlib.import_module(module)``; a package missing for it raises :class:`MissingExtraError`
    naming ``extra``, the st-jce extra that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise MissingExtraError(f"{error}: it comes with st-jce's {extra!r} extra, pip install 'st-jce[{extra}]'",
                                name=error.name) from error
