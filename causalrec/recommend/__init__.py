"""Recommendations out: :class:`Recommender` (top-K for known users, new users from text,
updates without retraining, similar items, exact and approximate top-K, export)."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY: dict[str, tuple[str, str]] = {
    "Recommender": ("recommender", "Recommender"),
    "FaissIndex": ("topk", "FaissIndex"),
    "exact_topk": ("topk", "exact_topk"),
    "recall_at_k": ("topk", "recall_at_k"),
    "fold_in": ("foldin", "fold_in"),
    "RidgeFoldIn": ("foldin", "RidgeFoldIn"),
    "write_inference": ("artefacts", "write_inference"),
    "read_inference": ("artefacts", "read_inference"),
    "seen_matrix": ("artefacts", "seen_matrix"),
    "export_topk": ("cli", "export_topk"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
