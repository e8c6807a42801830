"""Data: schema and validation, splits, the LightningDataModule (and, as they land,
RecBole atomic files, the registry/fetchers, text views and the simulator).

Heavy pieces (torch, Lightning) load on first use.
"""

from __future__ import annotations

import importlib

from .schema import DataValidationError, InteractionData

_LAZY = {
    "CausalRecDataModule": ("datamodule", "CausalRecDataModule"),
    "Split": ("splits", "Split"),
    "make_split": ("splits", "make_split"),
    "random_split": ("splits", "random_split"),
    "generate_interactions": ("generated", "generate_interactions"),
}

__all__ = ["DataValidationError", "InteractionData", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalrec.data' has no attribute {name!r}")
