"""Evaluation: ranking metrics, causal metrics and off-policy estimators."""

from __future__ import annotations

import importlib

_LAZY = {
    "ranking_metrics": ("ranking", "ranking_metrics"),
    "topk_hits": ("ranking", "topk_hits"),
    "user_auc": ("ranking", "user_auc"),
    "auc": ("value", "auc"),
    "mse": ("value", "mse"),
    "mae": ("value", "mae"),
    "ips_ranking_metrics": ("unbiased", "ips_ranking_metrics"),
    "popularity_diagnostics": ("popularity", "popularity_diagnostics"),
    "gini_index": ("popularity", "gini_index"),
    "ate_abs_error": ("causal", "ate_abs_error"),
    "pehe": ("causal", "pehe"),
    "auuc": ("causal", "auuc"),
    "qini": ("causal", "qini"),
    "uplift_curve": ("causal", "uplift_curve"),
    "qini_curve": ("causal", "qini_curve"),
    "causal_precision_at_k": ("causal", "causal_precision_at_k"),
    "causal_dcg_at_k": ("causal", "causal_dcg_at_k"),
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalrec.evaluation' has no attribute {name!r}")
