"""Evaluating the off-policy estimators themselves: relative estimation error against an
on-policy truth, over bootstrap resamples of the log.

This is the Open Bandit Dataset protocol (Saito et al., "Open Bandit Dataset and Pipeline:
Towards Realistic and Reproducible Off-Policy Evaluation", NeurIPS Datasets and Benchmarks
2021, section 5): OBD holds logs of two policies (uniform ``random`` and Bernoulli TS) run
on the same traffic, so the value of one policy is known on-policy (the mean reward of its
own log) and can be estimated off-policy from the other's log. For resample ``b`` the log
is drawn with replacement using ``numpy.random.RandomState(seed + b).choice`` - the draw
of OBP's ``sample_bootstrap_bandit_feedback(random_state=b)`` when ``seed=0`` - the
reward model is re-fitted (cross-fitted) on the resample, and every estimator's
``|V_hat - V| / V`` is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from causalrec.ope.estimators import OffPolicyEstimator
from causalrec.ope.feedback import LoggedFeedback, as_feedback
from causalrec.ope.inputs import round_inputs
from causalrec.ope.off_policy_evaluation import OffPolicyEvaluation

#: obp's published relative errors (mean, std over 30 resamples) for BTS evaluated from
#: random logs, campaign "all", logistic-regression reward model
#: (zr-obp examples/obd/README.md)
OBP_PUBLISHED_BTS_FROM_RANDOM_ALL = pd.DataFrame(
    {"mean": [0.156876, 0.311082, 0.311795, 0.292464, 0.302407, 0.258410, 0.159520],
     "std": [0.109898, 0.311170, 0.334736, 0.315485, 0.328434, 0.160598, 0.109660]},
    index=pd.Index(["dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os"],
                   name="estimator"))


def _rows_of(action_dist: Any, rows: np.ndarray, n: int) -> Any:
    arr = np.asarray(action_dist)
    return arr[rows] if arr.shape[0] == n and n > 1 else arr


def evaluate_estimators(feedback: LoggedFeedback | Mapping[str, Any], action_dist: Any,
                        truth: float, *, estimators: Sequence[OffPolicyEstimator] | None = None,
                        reward_model: Any | Callable[[LoggedFeedback], np.ndarray] | None = None,
                        n_resamples: int = 30, seed: int = 0,
                        progress: bool = False) -> pd.DataFrame:
    """Relative estimation error of each estimator on ``n_resamples`` bootstrap resamples.

    Args:
        feedback: the behaviour policy's log.
        action_dist: the evaluation policy (``[n_rounds or 1, n_actions, n_positions]``).
        truth: its on-policy value (e.g. the mean reward of its own log).
        estimators: default the seven of :func:`~causalrec.ope.estimators.default_estimators`.
        reward_model: a :class:`~causalrec.ope.RewardModel` (its ``fit_predict`` is
            called on every resample) or any callable ``log -> q_hat``; needed by DM/DR.
        n_resamples: bootstrap resamples of the log.
        seed: resample ``b`` uses ``RandomState(seed + b)``.

    Returns:
        DataFrame ``[n_resamples, n_estimators]`` of ``|V_hat - truth| / |truth|``, index
        ``resample``; the attribute ``attrs["estimates"]`` holds the raw estimates.
    """
    if truth == 0 or not np.isfinite(truth):
        raise ValueError(f"the relative error needs a finite non-zero truth, got {truth}")
    fb = as_feedback(feedback)
    ope = OffPolicyEvaluation(estimators)
    needs_q = any(e.requires_reward_model for e in ope.estimators)
    if needs_q and reward_model is None:
        raise ValueError("the estimators include DM/DR-type ones: pass reward_model")
    fit_predict = (reward_model if callable(reward_model) and not hasattr(reward_model,
                   "fit_predict") else getattr(reward_model, "fit_predict", None))
    n = fb.n_rounds
    estimates = []
    it = range(n_resamples)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="bootstrap resamples")
    for b in it:
        rows = np.random.RandomState(seed + b).choice(np.arange(n), size=n, replace=True)
        fb_b = fb.take(rows)
        q = fit_predict(fb_b) if needs_q else None
        inputs = round_inputs(fb_b, _rows_of(action_dist, rows, n), q)
        estimates.append(ope.point_estimates(inputs))
    est = pd.DataFrame(estimates).rename_axis("resample")
    rel = (est - truth).abs() / abs(truth)
    rel.attrs["estimates"] = est
    rel.attrs["truth"] = float(truth)
    return rel


def summarize_relative_errors(errors: pd.DataFrame,
                              reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean and standard deviation of each estimator's relative error (sorted by mean);
    with ``reference`` (columns ``mean``/``std``, e.g.
    ``OBP_PUBLISHED_BTS_FROM_RANDOM_ALL`` in this module) also its figures and whether ours lie within
    one published standard deviation of the published mean."""
    out = pd.DataFrame({"mean": errors.mean(), "std": errors.std(ddof=1)})
    out.index.name = "estimator"
    if reference is not None:
        ref = reference.reindex(out.index)
        out["published_mean"] = ref["mean"]
        out["published_std"] = ref["std"]
        out["within_published_std"] = (out["mean"] - ref["mean"]).abs() <= ref["std"]
    return out.sort_values("mean")


def plot_relative_errors(errors: pd.DataFrame, reference: pd.DataFrame | None = None,
                         ax: Any = None, title: str | None = None):
    """Box plot of each estimator's relative errors over resamples (their mean as a dot),
    with ``reference`` means (e.g. obp's published figures) as red crosses. Returns the
    matplotlib Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * errors.shape[1] + 2, 4))
    names = list(errors.columns)
    pos = np.arange(len(names))
    ax.boxplot([errors[c].to_numpy() for c in names], positions=pos, widths=0.55,
               showfliers=True)
    ax.plot(pos, errors.mean().to_numpy(), "o", color="tab:blue", label="mean (causalrec)")
    if reference is not None:
        ref = reference.reindex(names)["mean"].to_numpy()
        ax.plot(pos, ref, "x", color="tab:red", markersize=9, mew=2, label="mean (published)")
    ax.set_xticks(pos)
    ax.set_xticklabels(names, rotation=30)
    ax.set_ylabel("relative estimation error")
    ax.set_title(title or f"relative error over {errors.shape[0]} bootstrap resamples")
    ax.legend(loc="best", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return ax
