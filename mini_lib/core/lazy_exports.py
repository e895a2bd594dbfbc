"""A package's re-exported names, imported on first use (PEP 562).

``mini_lib.papers.gptfluence`` and ``mini_lib.papers.optimal_learning`` re-export names from modules that import torch. Importing
a light submodule such as ``mini_lib.papers.gptfluence.settings`` runs the package's ``__init__`` first, so an
eager ``__init__`` would make ``python -m mini_lib list`` (which reads every notebook's settings) wait
for torch. With these, ``from mini_lib.papers.gptfluence import collect_task`` works as before and pays then.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> tuple[
        list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package``; ``exports``: submodule -> its names."""
    home = {name: module for module, names in exports.items() for name in names}
    if len(home) != sum(map(len, exports.values())):
        raise ValueError(f"{package}: a name is exported from two modules")

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home[name]}"), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *home})

    return sorted(home), __getattr__, __dir__
