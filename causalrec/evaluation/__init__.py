"""Evaluation: ranking, value, causal and popularity metrics (off-policy estimators live in
:mod:`causalrec.ope`)."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY = {
    "evaluate": ("full_ranking", "evaluate"),
    "RankingAccumulator": ("full_ranking", "RankingAccumulator"),
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
    "causal_ranking_metrics": ("causal", "causal_ranking_metrics"),
    "ips_causal_ranking_from_rows": ("causal", "ips_causal_ranking_from_rows"),
    "logged_causal_metrics": ("causal", "logged_causal_metrics"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
