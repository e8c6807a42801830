"""Causal effect heads and propensity models. Classes load lazily on first access."""

from __future__ import annotations

import importlib

_LAZY = {
    "Head": ("base", "Head"),
    "PointwiseHead": ("pointwise", "PointwiseHead"),
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalrec.heads' has no attribute {name!r}")
