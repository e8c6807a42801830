"""DoWhy-style refutations of an effect estimate (Sharma & Kiciman 2020, "DoWhy: an
end-to-end library for causal inference", sec. 4).

Each refuter re-runs the estimator of an :class:`~causalrec.graphs.estimators.EffectEstimate`
on perturbed data and returns a :class:`Refutation` with the new estimate, the threshold used
and whether the check passed:

- :func:`placebo_treatment`: the treatment column is permuted; a real effect must vanish
  (``|mean placebo estimate| <= threshold``);
- :func:`random_common_cause`: an independent random discrete column joins the adjustment set;
  the estimate must not move (``|new - original| <= threshold``);
- :func:`data_subset`: the estimate is recomputed on random subsets; it must stay put
  (``|mean subset estimate - original| <= threshold``);
- :func:`hidden_confounder`: a simulated hidden binary confounder of a stated strength joins
  the adjustment set (:func:`causalrec.graphs.sensitivity.confounder_curve`); the check
  passes when the effect keeps its sign, and the row carries the E-value (VanderWeele & Ding
  2017) and the tipping strength.

:func:`refutation_table` lays the checks out as a DataFrame.

The default threshold is ``max(min_threshold, rel * |original|)`` (``rel = 0.1``), or, when
larger, 3 standard errors of the refuter's own simulations, so sampling noise alone does not
fail a check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .estimators import EffectEstimate, PositivityError


@dataclass(frozen=True)
class Refutation:
    """The outcome of one refutation check."""

    name: str
    original: float
    new_estimate: float
    threshold: float
    passed: bool
    simulations: list = field(default_factory=list)
    detail: str = ""

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        extra = f"; {self.detail}" if self.detail else ""
        return (f"{self.name}: original {self.original:.4f} -> new {self.new_estimate:.4f} "
                f"(threshold {self.threshold:.4f}) {verdict}{extra}")


def _threshold(original: float, sims: np.ndarray, threshold, rel: float, min_threshold: float):
    if threshold is not None:
        return float(threshold)
    se = float(sims.std(ddof=1) / np.sqrt(len(sims))) if len(sims) > 1 else 0.0
    return max(min_threshold, rel * abs(original), 3.0 * se)


def placebo_treatment(df: pd.DataFrame, estimate: EffectEstimate, *, n_simulations: int = 10,
                      seed: int = 0, threshold: float | None = None, rel: float = 0.1,
                      min_threshold: float = 0.01) -> Refutation:
    """Permute the treatment column; the mean placebo effect should be ~0."""
    rng = np.random.default_rng(seed)
    sims = []
    for _ in range(n_simulations):
        d = df.copy()
        d[estimate.treatment] = rng.permutation(d[estimate.treatment].to_numpy())
        sims.append(estimate.rerun(d).value)
    sims_a = np.asarray(sims)
    new = float(sims_a.mean())
    # a placebo's spread is the noise floor: the threshold scales with the original effect
    thr = _threshold(estimate.value, sims_a - new, threshold, rel, min_threshold)
    return Refutation("placebo_treatment", estimate.value, new, thr, abs(new) <= thr, sims)


def random_common_cause(df: pd.DataFrame, estimate: EffectEstimate, *, n_states: int = 2,
                        n_simulations: int = 5, seed: int = 0, threshold: float | None = None,
                        rel: float = 0.1, min_threshold: float = 0.01) -> Refutation:
    """Add an independent random ``n_states``-valued column to the adjustment set."""
    if estimate.method == "naive":
        raise ValueError("random_common_cause needs an adjusted estimate (backdoor or ipw)")
    rng = np.random.default_rng(seed)
    name = "__random_common_cause__"
    sims = []
    for _ in range(n_simulations):
        d = df.copy()
        d[name] = rng.integers(0, n_states, size=len(d))
        sims.append(estimate.rerun(d, adjustment_set=(*estimate.adjustment_set, name)).value)
    sims_a = np.asarray(sims)
    new = float(sims_a.mean())
    thr = _threshold(estimate.value, sims_a, threshold, rel, min_threshold)
    return Refutation("random_common_cause", estimate.value, new, thr,
                      abs(new - estimate.value) <= thr, sims)


def data_subset(df: pd.DataFrame, estimate: EffectEstimate, *, fraction: float = 0.8,
                n_simulations: int = 10, seed: int = 0, threshold: float | None = None,
                rel: float = 0.1, min_threshold: float = 0.01) -> Refutation:
    """Re-estimate on random ``fraction`` subsets; the mean should match the original."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    sims = []
    n = len(df)
    for _ in range(n_simulations):
        rows = rng.choice(n, size=max(1, int(fraction * n)), replace=False)
        try:
            sims.append(estimate.rerun(df.iloc[np.sort(rows)]).value)
        except PositivityError:
            continue
    if not sims:
        raise PositivityError("every subset violated positivity; use a larger fraction")
    sims_a = np.asarray(sims)
    new = float(sims_a.mean())
    thr = _threshold(estimate.value, sims_a, threshold, rel, min_threshold)
    return Refutation("data_subset", estimate.value, new, thr,
                      abs(new - estimate.value) <= thr, sims)


def hidden_confounder(df: pd.DataFrame, estimate: EffectEstimate, *, strength: float = 1.0,
                      strengths=(0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0), n_simulations: int = 3,
                      seed: int = 0) -> Refutation:
    """Re-adjust for a simulated hidden confounder of log-odds ``strength`` on both the
    treatment and the outcome; PASS when the effect keeps its sign. ``threshold`` is the
    strength; ``detail`` gives the E-value of the estimate's risk ratio and the tipping
    strength over ``strengths``."""
    from .sensitivity import confounder_curve

    grid = sorted({float(strength), *map(float, strengths)})
    curve = confounder_curve(df, estimate, grid, n_simulations=n_simulations, seed=seed)
    new = float(curve.loc[curve["strength"] == float(strength), "adjusted_effect"].iloc[0])
    tip = curve.attrs["tipping_strength"]
    detail = (f"E-value {curve.attrs['e_value']:.3g}; tipping strength "
              f"{'> ' + format(grid[-1], 'g') if np.isnan(tip) else format(tip, '.3g')} "
              "(log-odds on treatment and outcome)")
    return Refutation("hidden_confounder", estimate.value, new, float(strength),
                      bool(np.sign(new) == np.sign(estimate.value)),
                      curve["adjusted_effect"].tolist(), detail)


def _binary_outcome(df: pd.DataFrame, estimate: EffectEstimate) -> bool:
    if estimate.outcome_value is not None:
        return True
    values = pd.unique(df[estimate.outcome])
    return set(values.tolist()) <= {0, 1}


def refute_all(df: pd.DataFrame, estimate: EffectEstimate, *, seed: int = 0) -> list[Refutation]:
    """All checks: placebo, random common cause and hidden confounder (both only for
    adjusted estimates; the last only for a binary outcome), data subsets."""
    out = [placebo_treatment(df, estimate, seed=seed)]
    if estimate.method != "naive":
        out.append(random_common_cause(df, estimate, seed=seed))
    out.append(data_subset(df, estimate, seed=seed))
    if estimate.method != "naive" and _binary_outcome(df, estimate):
        out.append(hidden_confounder(df, estimate, seed=seed))
    return out


def refutation_table(refutations: list[Refutation]) -> pd.DataFrame:
    """One row per check: refuter, original, new_estimate, threshold, passed, detail."""
    return pd.DataFrame([{"refuter": r.name, "original": r.original,
                          "new_estimate": r.new_estimate, "threshold": r.threshold,
                          "passed": r.passed, "detail": r.detail} for r in refutations])
