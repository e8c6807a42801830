"""Several off-policy estimators evaluated on one log, sharing the per-round inputs and one set
of bootstrap resamples, so their intervals are directly comparable (the Open Bandit
Pipeline's ``OffPolicyEvaluation``; Saito et al., NeurIPS Datasets and Benchmarks 2021).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causalrec.ope.bootstrap import bootstrap_means, percentile_interval
from causalrec.ope.estimators import OffPolicyEstimator, OPEEstimate, default_estimators
from causalrec.ope.feedback import LoggedFeedback
from causalrec.ope.inputs import RoundInputs, round_inputs


class OffPolicyEvaluation:
    """Several estimators evaluated on one log, sharing the per-round inputs and one set of
    bootstrap resamples (so their intervals are directly comparable).

    Example::

        ope = OffPolicyEvaluation()                       # the seven OBP estimators
        table = ope.estimate(bandit_feedback, action_dist, q_hat, n_bootstrap=100, seed=0)
    """

    def __init__(self, estimators: Sequence[OffPolicyEstimator] | None = None):
        self.estimators = list(default_estimators() if estimators is None else estimators)
        names = [e.name for e in self.estimators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"estimator names must be unique; repeated: {dup} (pass name=...)")
        if not self.estimators:
            raise ValueError("at least one estimator is needed")

    def _resolve(self, inputs: RoundInputs) -> list[OffPolicyEstimator]:
        missing = [e.name for e in self.estimators
                   if e.requires_reward_model and inputs.q_policy is None]
        if missing:
            raise ValueError(f"estimators {missing} need estimated_rewards from a reward model "
                             "(see causalrec.ope.RewardModel)")
        return [e.resolve(inputs) for e in self.estimators]

    def point_estimates(self, inputs: RoundInputs) -> dict[str, float]:
        """Full-log estimates only (no bootstrap)."""
        return {e.name: float(r.combine(r.terms(inputs).mean(axis=1)))
                for e, r in zip(self.estimators, self._resolve(inputs))}

    def estimate_inputs(self, inputs: RoundInputs, *, n_bootstrap: int = 100,
                        alpha: float = 0.05, seed: int | None = 0) -> pd.DataFrame:
        resolved = self._resolve(inputs)
        blocks = [r.terms(inputs) for r in resolved]
        stacked = np.concatenate(blocks, axis=0)
        boot = bootstrap_means(stacked, n_bootstrap, seed)
        full = stacked.mean(axis=1)
        rows, start = [], 0
        for e, r, b in zip(self.estimators, resolved, blocks):
            k = b.shape[0]
            vals = r.combine(boot[:, start:start + k])
            lo, hi = percentile_interval(vals, alpha)
            rows.append(OPEEstimate(
                e.name, float(r.combine(full[start:start + k])), lo, hi,
                float(np.std(vals, ddof=1)) if n_bootstrap > 1 else 0.0, alpha,
                int(n_bootstrap), r.lambda_value).to_dict())
            start += k
        return pd.DataFrame(rows).set_index("estimator")

    def estimate(self, feedback: LoggedFeedback | Mapping[str, Any], action_dist: Any,
                 estimated_rewards: Any | None = None, *, n_bootstrap: int = 100,
                 alpha: float = 0.05, seed: int | None = 0) -> pd.DataFrame:
        """One row per estimator: ``value``, ``ci_lower``, ``ci_upper``, ``std_error``,
        ``alpha``, ``n_bootstrap``, ``lambda_`` (see :meth:`OffPolicyEstimator.estimate`)."""
        inputs = round_inputs(feedback, action_dist, estimated_rewards)
        return self.estimate_inputs(inputs, n_bootstrap=n_bootstrap, alpha=alpha, seed=seed)

    def relative_errors(self, truth: float, feedback: LoggedFeedback | Mapping[str, Any],
                        action_dist: Any, estimated_rewards: Any | None = None) -> pd.Series:
        """``|V_hat - truth| / |truth|`` of each estimator's full-log estimate (OBP's
        ``relative-ee``)."""
        if truth == 0:
            raise ValueError("the relative error needs a non-zero true policy value")
        inputs = round_inputs(feedback, action_dist, estimated_rewards)
        pe = self.point_estimates(inputs)
        return pd.Series({k: abs(v - truth) / abs(truth) for k, v in pe.items()},
                         name="relative_error")
