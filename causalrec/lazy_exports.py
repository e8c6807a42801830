"""Lazy public names for causalrec's subpackages.

``import causalrec.heads`` must stay cheap (no torch, pgmpy, transformers or wandb until a
name is used), so each subpackage lists its public names as ``{name: (module, attribute)}``
and gets a module-level ``__getattr__``/``__dir__`` from :func:`lazy_exports` (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, table: Mapping[str, tuple[str, str]],
                 namespace: dict) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package`` whose globals are ``namespace``: a name in
    ``table`` is imported from ``package.<module>`` on first access and then cached."""

    def __getattr__(name: str):
        if name in table:
            module, attr = table[name]
            value = getattr(importlib.import_module(f"{package}.{module}"), attr)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
