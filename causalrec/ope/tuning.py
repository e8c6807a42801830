"""Data-driven choice of an estimator's weight-modification hyperparameter.

Switch-DR's threshold and DRos's shrinkage ``lambda`` trade bias for variance; the field
picks them from the log itself:

* **SLOPE** (Su, Srinath & Krishnamurthy, "Adaptive Estimator Selection for Off-Policy
  Evaluation", ICML 2020), in the SLOPE++ form of Tucker & Lee ("Improved Estimator
  Selection for Off-Policy Evaluation", ICML 2021 RL-theory workshop) that the Open Bandit
  Pipeline uses: order the candidates from the widest confidence interval (least biased)
  to the narrowest, and keep moving to narrower ones while each new estimate stays within
  ``width_i + (sqrt(6) - 1) * width_j`` of every estimate accepted so far; the widths are
  one-sided Student-t half-widths at level ``delta``.
* **MSE bound** (Su, Dimakopoulou, Krishnamurthy & Dudik, "Doubly Robust Off-Policy
  Evaluation with Shrinkage", ICML 2020, section 5): minimise the sample variance over
  ``n`` plus the square of a high-probability (Bernstein) upper bound on the bias that the
  weight modification introduces.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats

SLOPE_C = float(np.sqrt(6.0) - 1.0)


def student_t_half_width(x: np.ndarray, delta: float = 0.05) -> np.ndarray:
    """One-sided ``1 - delta`` Student-t half-width of the mean of each row of ``x``
    (``[m, n]``): ``t_{n-1}(1-delta) * sqrt(var(x) / (n - 1))`` with the plug-in variance."""
    x = np.atleast_2d(x)
    n = x.shape[1]
    if n < 2:
        raise ValueError("SLOPE needs at least two rounds")
    return _t_quantile(n - 1, delta) * np.sqrt(x.var(axis=1) / (n - 1))


@lru_cache(maxsize=64)
def _t_quantile(dof: int, delta: float) -> float:
    return float(stats.t.ppf(1.0 - delta, dof))


def slope_select(estimates: np.ndarray, widths: np.ndarray) -> int:
    """Index of the candidate SLOPE selects, given each candidate's estimate and confidence
    half-width (Su et al. 2020; Tucker & Lee 2021)."""
    estimates = np.asarray(estimates, dtype=np.float64)
    widths = np.asarray(widths, dtype=np.float64)
    order = np.argsort(-widths, kind="stable")
    accepted: list[int] = []
    for rank, i in enumerate(order):
        if accepted:
            acc = np.asarray(accepted)
            ok = np.abs(estimates[acc] - estimates[i]) <= widths[i] + SLOPE_C * widths[acc]
            if not ok.all():
                return int(order[rank - 1])
        accepted.append(int(i))
    return int(order[-1])


def mse_upper_bound(round_values: np.ndarray, reward: np.ndarray, iw: np.ndarray,
                    iw_hat: np.ndarray, q_factual: np.ndarray | None,
                    delta: float = 0.05) -> float:
    """Estimated MSE of a weight-modified estimator: ``var/n + bias_ub**2`` where
    ``bias_ub = |mean((w - w_hat)(r - q))| + sqrt(2 mean(w^2) log(2/delta) / n)
    + 2 max(w) log(2/delta) / (3 n)`` (Su et al. 2020, section 5). Pass
    ``q_factual=None`` for IPW (the bias term then uses ``r``); the DR family passes
    ``q_hat(x_i, a_i)``."""
    n = reward.shape[0]
    resid = reward if q_factual is None else reward - q_factual
    bias = abs(float(np.mean((iw - iw_hat) * resid)))
    log_term = np.log(2.0 / delta)
    bias += np.sqrt(2.0 * float(np.mean(iw ** 2)) * log_term / n)
    bias += 2.0 * float(np.max(iw)) * log_term / (3.0 * n)
    return float(np.var(round_values) / n + bias ** 2)
