"""Evaluation: ranking metrics, causal metrics and off-policy estimators."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

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
    # off-policy evaluation
    "OffPolicyEstimator": ("ope", "OffPolicyEstimator"),
    "OffPolicyEvaluation": ("ope", "OffPolicyEvaluation"),
    "OPEEstimate": ("ope", "OPEEstimate"),
    "RoundInputs": ("ope", "RoundInputs"),
    "round_inputs": ("ope", "round_inputs"),
    "DirectMethod": ("ope", "DirectMethod"),
    "InverseProbabilityWeighting": ("ope", "InverseProbabilityWeighting"),
    "SelfNormalizedInverseProbabilityWeighting": ("ope", "SelfNormalizedInverseProbabilityWeighting"),
    "DoublyRobust": ("ope", "DoublyRobust"),
    "SelfNormalizedDoublyRobust": ("ope", "SelfNormalizedDoublyRobust"),
    "SwitchDoublyRobust": ("ope", "SwitchDoublyRobust"),
    "DoublyRobustWithShrinkage": ("ope", "DoublyRobustWithShrinkage"),
    "default_estimators": ("ope", "default_estimators"),
    "LoggedFeedback": ("ope_feedback", "LoggedFeedback"),
    "bootstrap_means": ("ope_bootstrap", "bootstrap_means"),
    "RewardModel": ("reward_model", "RewardModel"),
    "uniform_policy": ("policies", "uniform_policy"),
    "topk_policy": ("policies", "topk_policy"),
    "softmax_policy": ("policies", "softmax_policy"),
    "bernoulli_ts_action_dist": ("policies", "bernoulli_ts_action_dist"),
    "beta_prior_from_logs": ("policies", "beta_prior_from_logs"),
    "evaluate_estimators": ("ope_evaluation", "evaluate_estimators"),
    "summarize_relative_errors": ("ope_evaluation", "summarize_relative_errors"),
    "plot_relative_errors": ("ope_evaluation", "plot_relative_errors"),
    "obd_bts_prior": ("ope_obd", "obd_bts_prior"),
    "obd_policy_action_dist": ("ope_obd", "obd_policy_action_dist"),
    "obd_on_policy_value": ("ope_obd", "obd_on_policy_value"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
