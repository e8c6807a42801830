"""The LightningModule that joins an encoder and a head."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "CausalRecModule":
        from .module import CausalRecModule

        return CausalRecModule
    raise AttributeError(f"module 'causalrec.models' has no attribute {name!r}")


__all__ = ["CausalRecModule"]
