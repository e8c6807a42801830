"""Lazy public names for causalrec's subpackages.

``import causalrec.heads`` must stay cheap (no torch, pgmpy, transformers or wandb until a
name is used), so each subpackage lists its public names as ``{name: (module, attribute)}``
and gets a module-level ``__getattr__``/``__dir__`` from :func:`lazy_exports` (PEP 562).
"""

from __future__ import annotations

import importlib
import sys
import types
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

    keep_exports_over_submodules(package, table)
    return __getattr__, __dir__


def keep_exports_over_submodules(package: str, table: Mapping[str, tuple[str, str]]) -> None:
    """An exported name that is also a submodule's name (``causalrec.graphs.counterfactual``,
    the function, defined in the module ``causalrec/graphs/counterfactual.py``) stays the
    exported object: the import system sets ``package.<submodule>`` to the module whenever
    that module is first imported (by any import of a name from it), which would otherwise
    make the package attribute the function or the module depending on import order."""
    module = sys.modules.get(package)
    if module is None or type(module) is not types.ModuleType:
        return

    class ExportingModule(types.ModuleType):
        def __setattr__(self, name, value):
            if (name in table and isinstance(value, types.ModuleType)
                    and value.__name__ == f"{package}.{name}"):
                return  # the submodule stays reachable through sys.modules
            super().__setattr__(name, value)

    module.__class__ = ExportingModule
