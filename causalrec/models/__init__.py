"""The LightningModule that joins an encoder and a head, and the functions that build a
study's datamodule and module from a composed config."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY: dict[str, tuple[str, str]] = {
    "CausalRecModule": ("module", "CausalRecModule"),
    "build_module": ("build", "build_module"),
    "build_datamodule": ("build", "build_datamodule"),
    "resolve_data_needs": ("build", "resolve_data_needs"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
