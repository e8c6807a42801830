"""Experiments: the Hydra entry points, in-process runs for notebooks, run records."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY = {
    "train": ("runner", "train"),
    "run": ("api", "run"),
    "sweep": ("api", "sweep"),
    "compose": ("api", "compose"),
    "load_runs": ("api", "load_runs"),
    "load_model": ("api", "load_model"),
    "validate_config": ("schema", "validate_config"),
    "ConfigValidationError": ("schema", "ConfigValidationError"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
