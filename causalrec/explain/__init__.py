"""Explanations of a recommendation: counterfactual history, text evidence and the causal
effect of recommending from the study's graph."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY: dict[str, tuple[str, str]] = {}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
