"""Off-policy evaluation: logged bandit feedback (:class:`LoggedFeedback`, with
``from_obp``/``to_obp``), estimators (DM ... DRos), the bootstrap, hyperparameter tuning,
reward models, evaluation policies and the Open Bandit Dataset study.

Needs only :mod:`causalrec.data` below it.
"""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY = {
    "random_feedback": ("synthetic", "random_feedback"),
    "random_action_dist": ("synthetic", "random_action_dist"),
    "OffPolicyEstimator": ("estimators", "OffPolicyEstimator"),
    "OffPolicyEvaluation": ("off_policy_evaluation", "OffPolicyEvaluation"),
    "OPEEstimate": ("estimators", "OPEEstimate"),
    "RoundInputs": ("inputs", "RoundInputs"),
    "round_inputs": ("inputs", "round_inputs"),
    "DirectMethod": ("estimators", "DirectMethod"),
    "InverseProbabilityWeighting": ("estimators", "InverseProbabilityWeighting"),
    "SelfNormalizedInverseProbabilityWeighting": ("estimators", "SelfNormalizedInverseProbabilityWeighting"),
    "DoublyRobust": ("estimators", "DoublyRobust"),
    "SelfNormalizedDoublyRobust": ("estimators", "SelfNormalizedDoublyRobust"),
    "SwitchDoublyRobust": ("estimators", "SwitchDoublyRobust"),
    "DoublyRobustWithShrinkage": ("estimators", "DoublyRobustWithShrinkage"),
    "default_estimators": ("estimators", "default_estimators"),
    "LoggedFeedback": ("feedback", "LoggedFeedback"),
    "bootstrap_means": ("bootstrap", "bootstrap_means"),
    "RewardModel": ("reward_model", "RewardModel"),
    "uniform_policy": ("policies", "uniform_policy"),
    "topk_policy": ("policies", "topk_policy"),
    "softmax_policy": ("policies", "softmax_policy"),
    "bernoulli_ts_action_dist": ("policies", "bernoulli_ts_action_dist"),
    "beta_prior_from_logs": ("policies", "beta_prior_from_logs"),
    "evaluate_estimators": ("evaluation", "evaluate_estimators"),
    "summarize_relative_errors": ("evaluation", "summarize_relative_errors"),
    "plot_relative_errors": ("evaluation", "plot_relative_errors"),
    "as_feedback": ("feedback", "as_feedback"),
    "obd_feedback": ("obd", "obd_feedback"),
    "load_obd_feedback": ("obd", "load_obd_feedback"),
    "obd_bts_prior": ("obd", "obd_bts_prior"),
    "obd_policy_action_dist": ("obd", "obd_policy_action_dist"),
    "obd_on_policy_value": ("obd", "obd_on_policy_value"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
