"""E-values against hand computations; the hidden-confounder curve on data with a known
hidden confounder; the sensitivity row of the refutation table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalrec.graphs.estimators import backdoor_adjustment, naive_difference
from causalrec.graphs.refute import hidden_confounder, refutation_table, refute_all
from causalrec.graphs.sensitivity import bias_factor, confounder_curve, e_value


def test_e_values_by_hand():
    # VanderWeele & Ding 2017, worked example: RR 3.9 (95% CI 1.8-8.7) -> E 7.26, CI 3.0
    ev = e_value(3.9, 1.8, 8.7)
    assert ev.point == pytest.approx(3.9 + np.sqrt(3.9 * 2.9))
    assert ev.point == pytest.approx(7.26, abs=5e-3)
    assert ev.ci == pytest.approx(3.0)            # 1.8 + sqrt(1.8 * 0.8) = 1.8 + 1.2
    low = e_value(0.8, 0.7, 0.9)                  # protective: invert first
    assert low.point == pytest.approx(1.25 + np.sqrt(1.25 * 0.25))
    assert low.ci == pytest.approx(1 / 0.9 + np.sqrt(1 / 0.9 * (1 / 0.9 - 1)))
    assert e_value(1.0).point == 1.0
    assert e_value(2.0, 0.9, 3.0).ci == 1.0       # the interval holds the null
    for rr in (1.1, 2.0, 3.9, 10.0):              # B(E, E) = RR defines the E-value
        assert bias_factor(e_value(rr).point, e_value(rr).point) == pytest.approx(rr)
    with pytest.raises(ValueError, match="positive finite risk ratio"):
        e_value(-1.0)
    with pytest.raises(ValueError, match="does not contain"):
        e_value(2.0, 2.5, 3.0)


def _confounded(n: int, hidden: float, effect: float, seed: int) -> pd.DataFrame:
    """Observed z, hidden u (log-odds ``hidden`` on t and y), binary t and y."""
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    u = rng.integers(0, 2, n)
    t = rng.random(n) < 1 / (1 + np.exp(-(-0.3 + 0.8 * z + hidden * (u - 0.5))))
    y = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + effect * t + 0.7 * z + hidden * (u - 0.5))))
    return pd.DataFrame({"z": z, "u": u, "t": t.astype(int), "y": y.astype(int)})


def test_curve_moves_towards_the_truth_at_the_true_strength():
    df = _confounded(20_000, hidden=2.0, effect=0.6, seed=0)
    truth = backdoor_adjustment(df, "t", "y", ["z", "u"]).value   # adjusting for u itself
    est = backdoor_adjustment(df, "t", "y", ["z"])               # u hidden: biased upwards
    assert est.value > truth + 0.03
    curve = confounder_curve(df, est, [0.0, 1.0, 2.0, 3.0], n_simulations=2, seed=1)
    adj = curve.set_index("strength")["adjusted_effect"]
    assert abs(adj[0.0] - est.value) < 0.01                      # an independent U: no change
    assert adj[0.0] > adj[1.0] > adj[2.0] > adj[3.0]             # stronger U, smaller effect
    assert abs(adj[2.0] - truth) < abs(est.value - truth) / 2     # at the true strength
    assert curve.attrs["e_value"] > 1


def test_tipping_point_grows_with_the_effect():
    tips = []
    for effect in (0.3, 1.2):
        df = _confounded(8_000, hidden=0.0, effect=effect, seed=2)
        est = backdoor_adjustment(df, "t", "y", ["z"])
        curve = confounder_curve(df, est, [0, 1, 2, 4, 8], n_simulations=1, seed=0)
        tips.append(curve.attrs["tipping_strength"])
    assert np.isfinite(tips[0]) and (np.isnan(tips[1]) or tips[1] > tips[0])


def test_refutation_table_has_the_sensitivity_row():
    df = _confounded(5_000, hidden=1.0, effect=0.8, seed=3)
    est = backdoor_adjustment(df, "t", "y", ["z"])
    row = hidden_confounder(df, est, strength=1.0, seed=0)
    assert row.name == "hidden_confounder" and "E-value" in row.detail
    assert row.passed == (np.sign(row.new_estimate) == np.sign(est.value))
    table = refutation_table(refute_all(df, est, seed=0))
    assert list(table["refuter"]) == ["placebo_treatment", "random_common_cause",
                                      "data_subset", "hidden_confounder"]
    assert {"original", "new_estimate", "threshold", "passed", "detail"} <= set(table.columns)


def test_bad_input():
    df = _confounded(500, hidden=0.0, effect=0.5, seed=4)
    with pytest.raises(ValueError, match="naive difference"):
        confounder_curve(df, naive_difference(df, "t", "y"))
    est = backdoor_adjustment(df, "t", "y", ["z"])
    with pytest.raises(ValueError, match="non-negative"):
        confounder_curve(df, est, [-1.0])
    df["score"] = np.arange(len(df)) % 3
    with pytest.raises(ValueError, match="not binary"):
        confounder_curve(df, backdoor_adjustment(df, "t", "score", ["z"]), [1.0])
