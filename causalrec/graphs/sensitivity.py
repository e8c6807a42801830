"""Sensitivity of an effect estimate to an unobserved confounder.

- :func:`e_value`: the E-value of VanderWeele & Ding (2017, "Sensitivity analysis in
  observational research: introducing the E-value", *Annals of Internal Medicine*): the
  minimum strength of association, on the risk-ratio scale, that a hidden confounder would
  need with both the treatment and the outcome to explain the observed risk ratio away,
  ``E = RR + sqrt(RR (RR - 1))`` for ``RR >= 1`` (``1/RR`` first when ``RR < 1``); for a
  confidence interval, the limit nearer 1 (E = 1 when the interval holds 1).
- :func:`bias_factor`: Ding & VanderWeele's (2016) bound ``B = RR_EU RR_UD / (RR_EU + RR_UD -
  1)`` on the confounding bias a confounder of strengths ``RR_EU`` and ``RR_UD`` can cause;
  ``RR / B(s, s)`` is the analytic worst-case curve and reaches 1 at ``s = E``.
- :func:`confounder_curve`: a simulation-based curve of the *adjusted* effect against the
  strength of a hidden binary confounder ``U`` added to the declared graph as a parent of the
  treatment and the outcome (Rosenbaum & Rubin 1983, "Assessing sensitivity to an
  unobserved binary covariate"; the "add unobserved common cause" refuter of DoWhy, Sharma &
  Kiciman 2020): for each strength ``g`` (log-odds of ``U`` on both), ``U`` is drawn for
  every row from its posterior given the row's treatment, outcome and adjustment stratum,
  ``P(U=1 | t, y, z) propto P(t | z, U) P(y | t, z, U)`` with
  ``logit P(T=1 | z, u) = logit e(z) + g (u - 1/2)`` and likewise for ``Y``, and the
  estimator is re-run with ``U`` in the adjustment set. The tipping point is the smallest
  strength at which the adjusted effect reaches zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .estimators import EffectEstimate


@dataclass(frozen=True)
class EValue:
    """The E-value of a risk ratio and of its confidence limit nearer the null."""

    risk_ratio: float
    point: float
    ci: float | None = None

    def __str__(self) -> str:
        ci = f", CI limit {self.ci:.3g}" if self.ci is not None else ""
        return f"E-value {self.point:.3g}{ci} (risk ratio {self.risk_ratio:.3g})"


def _e(rr: float) -> float:
    rr = 1.0 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1.0)))


def e_value(rr: float, lo: float | None = None, hi: float | None = None) -> EValue:
    """E-value of the risk ratio ``rr`` (and of its confidence interval ``[lo, hi]``)."""
    for name, v in (("rr", rr), ("lo", lo), ("hi", hi)):
        if v is not None and not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite risk ratio, got {v!r}")
    if lo is not None and hi is not None and not lo <= rr <= hi:
        raise ValueError(f"the interval [{lo}, {hi}] does not contain the risk ratio {rr}")
    ci = None
    if rr >= 1 and lo is not None:
        ci = 1.0 if lo <= 1 else _e(lo)
    elif rr < 1 and hi is not None:
        ci = 1.0 if hi >= 1 else _e(hi)
    return EValue(float(rr), _e(rr), ci)


def risk_ratio(estimate: EffectEstimate) -> float:
    """``E[Y | do(treated)] / E[Y | do(control)]`` of an estimate (a binary outcome)."""
    treated = estimate.arm_means.get(estimate.treated)
    control = estimate.arm_means.get(estimate.control)
    if treated is None or control is None or control <= 0 or treated <= 0:
        raise ValueError(f"the estimate's arm means {estimate.arm_means} give no risk ratio "
                         "(both must be positive)")
    return float(treated / control)


def bias_factor(rr_eu: float, rr_ud: float) -> float:
    """The largest factor by which a confounder with these risk ratios can bias a risk
    ratio (Ding & VanderWeele 2016, "Sensitivity analysis without assumptions")."""
    return float(rr_eu * rr_ud / (rr_eu + rr_ud - 1.0))


def _stratum_rate(codes: np.ndarray, x: np.ndarray, n: int) -> np.ndarray:
    num = np.bincount(codes, weights=x, minlength=n)
    den = np.bincount(codes, minlength=n)
    return np.clip(num / np.maximum(den, 1), 1e-3, 1 - 1e-3)[codes]


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def draw_confounder(df: pd.DataFrame, estimate: EffectEstimate, strength: float,
                    rng: np.random.Generator) -> np.ndarray:
    """One draw of the hidden binary confounder ``U`` for every row (module docstring)."""
    t = (df[estimate.treatment] == estimate.treated).to_numpy(dtype=float)
    if estimate.outcome_value is not None:
        y = (df[estimate.outcome] == estimate.outcome_value).to_numpy(dtype=float)
    else:
        y = df[estimate.outcome].to_numpy(dtype=float)
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError(f"outcome {estimate.outcome!r} is not binary; pass outcome_value= "
                             "to the estimator")
    z = list(estimate.adjustment_set)
    if z:
        keys = pd.MultiIndex.from_frame(df[z].astype(object)) if len(z) > 1 else \
            pd.Index(df[z[0]].astype(object))
        codes, uniques = pd.factorize(keys)
    else:
        codes, uniques = np.zeros(len(df), dtype=np.int64), [0]
    n = len(uniques)
    e = _logit(_stratum_rate(codes, t, n))
    m = _logit(_stratum_rate(codes * 2 + t.astype(np.int64), y, 2 * n))
    like = []
    for u in (0.0, 1.0):
        pt = _sigmoid(e + strength * (u - 0.5))
        py = _sigmoid(m + strength * (u - 0.5))
        like.append(np.where(t == 1, pt, 1 - pt) * np.where(y == 1, py, 1 - py))
    post = like[1] / (like[0] + like[1])
    return (rng.random(len(df)) < post).astype(np.int64)


def confounder_curve(df: pd.DataFrame, estimate: EffectEstimate,
                     strengths: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0), *,
                     n_simulations: int = 5, seed: int = 0) -> pd.DataFrame:
    """The adjusted effect against the strength of a hidden confounder.

    Returns one row per strength ``g`` (log-odds): ``strength``, ``odds_ratio`` (``e^g``),
    the risk ratios of the simulated ``U`` with the treatment (``rr_u_treatment``) and with
    the outcome (``rr_u_outcome``), the mean and standard deviation of the re-adjusted
    effect over ``n_simulations`` draws, and ``rr_bound``, the analytic worst-case risk ratio
    ``RR / B(s, s)`` at the simulated confounder's mean risk ratio ``s``. ``df.attrs``
    gets ``tipping_strength`` (NaN when the effect never reaches zero) and the E-value.
    """
    if estimate.method == "naive":
        raise ValueError("confounder_curve re-adjusts: give an adjusted estimate "
                         "(backdoor or ipw), not a naive difference")
    strengths = [float(s) for s in strengths]
    if not strengths or any(s < 0 or not np.isfinite(s) for s in strengths):
        raise ValueError(f"strengths must be finite and non-negative, got {strengths}")
    rng = np.random.default_rng([seed, 0x5E5])  # a stream of its own, apart from the data's
    rr = risk_ratio(estimate)
    name = "__hidden_confounder__"
    t = (df[estimate.treatment] == estimate.treated).to_numpy()
    rows = []
    for g in strengths:
        values, rr_t, rr_y = [], [], []
        for _ in range(n_simulations):
            u = draw_confounder(df, estimate, g, rng)
            d = df.assign(**{name: u})
            values.append(estimate.rerun(d, adjustment_set=(*estimate.adjustment_set,
                                                            name)).value)
            yv = d[estimate.outcome] == (estimate.outcome_value if estimate.outcome_value
                                         is not None else 1)
            rr_t.append(_rr(t, u))
            rr_y.append(_rr(yv.to_numpy(), u))
        s = float(np.sqrt(np.nanmean(rr_t) * np.nanmean(rr_y)))
        rows.append({"strength": g, "odds_ratio": float(np.exp(g)),
                     "rr_u_treatment": float(np.nanmean(rr_t)),
                     "rr_u_outcome": float(np.nanmean(rr_y)),
                     "adjusted_effect": float(np.mean(values)),
                     "sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                     "rr_bound": rr / bias_factor(s, s) if rr >= 1 else rr * bias_factor(s, s)})
    out = pd.DataFrame(rows)
    out.attrs["tipping_strength"] = tipping_strength(out, estimate.value)
    out.attrs["e_value"] = e_value(rr).point
    return out


def _rr(flag: np.ndarray, u: np.ndarray) -> float:
    """``max(r, 1/r)`` for ``r = P(flag | U=1) / P(flag | U=0)``."""
    a, b = flag[u == 1].mean() if (u == 1).any() else np.nan, \
        flag[u == 0].mean() if (u == 0).any() else np.nan
    if not (a > 0 and b > 0):
        return float("nan")
    r = a / b
    return float(max(r, 1 / r))


def tipping_strength(curve: pd.DataFrame, original: float) -> float:
    """The strength (linearly interpolated) at which the adjusted effect first reaches
    zero from the side of ``original``; NaN if it never does."""
    s = curve["strength"].to_numpy()
    v = curve["adjusted_effect"].to_numpy() * np.sign(original or 1.0)
    for i in range(len(s)):
        if v[i] <= 0:
            if i == 0:
                return float(s[0])
            return float(s[i - 1] + (s[i] - s[i - 1]) * v[i - 1] / (v[i - 1] - v[i]))
    return float("nan")
