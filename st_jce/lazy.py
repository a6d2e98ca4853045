"""Package doors that import on first use: a wing whose modules need an extra (mteb, datasets) still imports
without it, and names what it offers.

Examples
--------
>>> __getattr__, __dir__, __all__ = lazy_exports("json", {"json.decoder": ("JSONDecoder",)})
>>> __getattr__("JSONDecoder").__name__, __all__
('JSONDecoder', ['JSONDecoder'])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence


def lazy_exports(package: str, names_by_module: Mapping[str, Sequence[str]]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """A package's ``__getattr__``, ``__dir__`` and ``__all__`` for names its modules define, imported when
    first asked for (PEP 562)."""
    module_of = {name: module for module, names in names_by_module.items() for name in names}
    exported = sorted(module_of)

    def __getattr__(name: str):
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module_of[name]), name)

    def __dir__() -> list[str]:
        return exported

    return __getattr__, __dir__, exported
