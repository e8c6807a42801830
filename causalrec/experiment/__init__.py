"""Experiments: the Hydra entry points, in-process runs for notebooks, run records."""

from __future__ import annotations

import importlib

_LAZY = {
    "train": ("train", "train"),
    "run": ("api", "run"),
    "compose": ("api", "compose"),
    "load_runs": ("api", "load_runs"),
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalrec.experiment' has no attribute {name!r}")
