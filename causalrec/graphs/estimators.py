"""Plug-in effect estimators straight from discrete data, given an adjustment set.

For comparing "fit a network, then query" with "estimate directly":

- :func:`backdoor_adjustment`: ``E[Y | do(x)] = sum_z E[Y | x, z] P(z)`` with empirical
  frequencies (Pearl 1993; Pearl 2009, thm. 3.3.2);
- :func:`ipw`: inverse propensity weighting, ``E[Y | do(x)] = E[1{X=x} Y / e_x(Z)]`` with the
  stratum frequency ``e_x(z) = P(X=x | z)`` (Horvitz & Thompson 1952; Rosenbaum & Rubin 1983);
  ``normalize=True`` gives the Hajek (self-normalised) form;
- :func:`naive_difference`: ``E[Y | X=treated] - E[Y | X=control]``, the confounded baseline.

Each returns an :class:`EffectEstimate` that the refuters in :mod:`causalrec.graphs.refute`
re-run on perturbed data. A stratum of ``Z`` with no row in one arm violates positivity and
raises :class:`PositivityError` naming the stratum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

METHODS = ("backdoor", "ipw", "naive")


class PositivityError(ValueError):
    """Some adjustment stratum has no row with the treated (or control) value."""


@dataclass(frozen=True)
class EffectEstimate:
    """An effect estimate and everything needed to recompute it on other data."""

    value: float
    method: str
    treatment: str
    outcome: str
    adjustment_set: tuple[str, ...]
    treated: Any
    control: Any
    arm_means: dict = field(default_factory=dict)
    outcome_value: Any = None
    normalize: bool = True

    def rerun(self, df: pd.DataFrame, **changes: Any) -> EffectEstimate:
        """The same estimator on ``df`` (with optional changes, e.g. ``adjustment_set``)."""
        params = replace(self, **changes) if changes else self
        return estimate_effect(df, params.treatment, params.outcome, params.adjustment_set,
                               method=params.method, treated=params.treated,
                               control=params.control, outcome_value=params.outcome_value,
                               normalize=params.normalize)

    def __float__(self) -> float:
        return float(self.value)


def _outcome(df: pd.DataFrame, outcome: str, outcome_value: Any) -> np.ndarray:
    col = df[outcome]
    if outcome_value is not None:
        return (col == outcome_value).to_numpy(dtype=float)
    try:
        return col.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"outcome column {outcome!r} is not numeric; pass outcome_value= "
                         "to estimate the effect on P(outcome = value)") from exc


def _check_columns(df: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"data has no column(s) {missing} (columns: {list(df.columns)})")


def _arms(df: pd.DataFrame, treatment: str, treated: Any, control: Any):
    if treated is None or control is None:
        values = sorted(pd.unique(df[treatment]).tolist())
        if len(values) != 2:
            raise ValueError(f"treatment column {treatment!r} has values {values}; pass "
                             "treated= and control=")
        control = values[0] if control is None else control
        treated = values[1] if treated is None else treated
    return treated, control


def _arm_means(df, treatment, y, z, arm, method, normalize):
    x = (df[treatment] == arm).to_numpy()
    if not x.any():
        raise PositivityError(f"no row has {treatment} = {arm!r}")
    if not z:
        return float(y[x].mean())
    keys = pd.MultiIndex.from_frame(df[list(z)].astype(object)) if len(z) > 1 else \
        pd.Index(df[z[0]].astype(object))
    codes, uniques = pd.factorize(keys)
    n_strata = len(uniques)
    n_z = np.bincount(codes, minlength=n_strata).astype(float)
    n_xz = np.bincount(codes[x], minlength=n_strata).astype(float)
    empty = np.flatnonzero(n_xz == 0)
    if len(empty):
        stratum = uniques[empty[0]]
        raise PositivityError(
            f"positivity fails: no row with {treatment} = {arm!r} in stratum "
            f"{dict(zip(z, stratum if isinstance(stratum, tuple) else (stratum,)))} "
            f"({len(empty)} of {n_strata} strata are empty)")
    if method == "backdoor":
        sum_y = np.bincount(codes[x], weights=y[x], minlength=n_strata)
        return float(((sum_y / n_xz) * (n_z / n_z.sum())).sum())
    propensity = n_xz / n_z
    w = x / propensity[codes]
    if normalize:
        return float((w * y).sum() / w.sum())
    return float((w * y).mean())


def estimate_effect(df: pd.DataFrame, treatment: str, outcome: str,
                    adjustment_set: Sequence[str] = (), *, method: str = "backdoor",
                    treated: Any = None, control: Any = None, outcome_value: Any = None,
                    normalize: bool = True) -> EffectEstimate:
    """Estimate ``E[Y | do(treated)] - E[Y | do(control)]`` from ``df`` by ``method``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    z = [] if method == "naive" else list(adjustment_set or [])
    _check_columns(df, [treatment, outcome, *z])
    treated, control = _arms(df, treatment, treated, control)
    y = _outcome(df, outcome, outcome_value)
    means = {arm: _arm_means(df, treatment, y, z, arm, method, normalize)
             for arm in (treated, control)}
    return EffectEstimate(means[treated] - means[control], method, treatment, outcome,
                          tuple(z), treated, control, means, outcome_value, normalize)


def backdoor_adjustment(df, treatment, outcome, adjustment_set, **kw) -> EffectEstimate:
    """Backdoor-adjusted effect (stratify on ``adjustment_set``, average over ``P(z)``)."""
    return estimate_effect(df, treatment, outcome, adjustment_set, method="backdoor", **kw)


def ipw(df, treatment, outcome, adjustment_set, **kw) -> EffectEstimate:
    """Inverse-propensity-weighted effect with stratum-frequency propensities."""
    return estimate_effect(df, treatment, outcome, adjustment_set, method="ipw", **kw)


def naive_difference(df, treatment, outcome, **kw) -> EffectEstimate:
    """The unadjusted (confounded) difference of conditional means."""
    return estimate_effect(df, treatment, outcome, (), method="naive", **kw)
