"""Evaluation: ranking metrics, causal metrics and off-policy estimators."""

from __future__ import annotations

import importlib

_LAZY = {
    "ranking_metrics": ("ranking", "ranking_metrics"),
    "topk_hits": ("ranking", "topk_hits"),
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalrec.evaluation' has no attribute {name!r}")
