"""Closed loops: the environment logs the propensities the policy used, round 0 is the static
log, and the loop task runs end to end with per-round metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalrec.sim import simulate
from causalrec.sim.loop import LoopWorld, exposure_propensities

SMALL = dict(n_users=120, n_items=40, per_user=10)


def test_exposure_propensities_by_hand():
    s = np.array([[0.0, np.log(3.0)]])
    p = exposure_propensities(s, k=2, policy="softmax", temperature=1.0, epsilon=0.0)
    pi = np.array([0.25, 0.75])
    assert p[0] == pytest.approx(1 - (1 - pi) ** 2)
    p = exposure_propensities(s, k=2, policy="softmax", temperature=1.0, epsilon=0.2)
    pi = 0.8 * np.array([0.25, 0.75]) + 0.1
    assert p[0] == pytest.approx(1 - (1 - pi) ** 2)
    # exploration keeps far-off candidates' propensities positive (no underflow to 0)
    p = exposure_propensities(np.array([[0.0, 500.0, 1000.0]]), k=1, temperature=0.5)
    assert (p > 0).all() and p[0, 0] == pytest.approx(0.05 / 3)
    p = exposure_propensities(np.array([[3.0, 1.0, 2.0, 0.0]]), k=2, policy="topk", epsilon=0.2)
    assert p[0] == pytest.approx([0.8 + 0.1, 0.1, 0.8 + 0.1, 0.1])
    for bad in (dict(k=0), dict(k=5), dict(policy="greedy"), dict(temperature=0.0)):
        with pytest.raises(ValueError):
            exposure_propensities(np.zeros((1, 4)), **{"k": 1, **bad})


def test_round_zero_is_the_static_simulators_log():
    lw = LoopWorld("popularity_bias", seed=3, **SMALL)
    static = simulate("popularity_bias", seed=3, randomized_users=0.0, **SMALL)
    pd.testing.assert_frame_equal(lw.initial_log().drop(columns="round"),
                                  static.data.interactions)


def test_logged_propensities_are_the_ones_the_policy_used():
    lw = LoopWorld("popularity_bias", seed=1, candidates=8, **SMALL)
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(lw.n_users, lw.n_items))
    rows = lw.step(1, scores, k=3, policy="softmax", temperature=0.7)
    cand = lw.candidates_for(1)
    want = exposure_propensities(scores[cand["user"], cand["item"]].reshape(lw.n_users, -1),
                                 3, "softmax", 0.7, epsilon=0.05).reshape(-1)
    assert (rows["user"].to_numpy() == cand["user"]).all()
    assert rows["propensity"].to_numpy() == pytest.approx(want)
    assert set(rows["policy"]) == {"deployed"} and set(rows["round"]) == {1}
    # exposure follows the propensities: high-propensity rows are shown more often
    hi = rows["propensity"] > np.quantile(rows["propensity"], 0.75)
    lo = rows["propensity"] < np.quantile(rows["propensity"], 0.25)
    assert rows.loc[hi, "exposure"].mean() > rows.loc[lo, "exposure"].mean() + 0.2
    # and the round is reproducible
    again = lw.step(1, scores, k=3, policy="softmax", temperature=0.7)
    pd.testing.assert_frame_equal(rows, again)
    with pytest.raises(ValueError, match="round"):
        lw.step(0, scores, k=3)
    with pytest.raises(ValueError, match="scores"):
        lw.step(1, scores[:5], k=3)


def test_loop_task_runs_and_records_rounds(tmp_path):
    from causalrec.experiment.api import run

    common = ["experiment=feedback_loop", "head=naive", "logger=none",
              "study.simulator.n_users=120", "study.simulator.n_items=40",
              "study.simulator.per_user=10", "study.candidates=8", "study.epochs_per_round=1",
              "encoder.dim=8"]
    one = run([*common, "study.rounds=1"], output_dir=tmp_path / "one")
    assert one["rounds"] == 1.0 and "round/1/value" not in one
    m = run([*common, "study.rounds=3"], output_dir=tmp_path / "three")
    for r in (1, 2):
        for key in ("value", "gini", "tail_share", "intra_diversity", "prediction_rmse",
                    "naive_bias"):
            assert np.isfinite(m[f"round/{r}/{key}"]), (r, key)
    assert 0 <= m["gini"] <= 1 and 0 <= m["aggregate_diversity"] <= 1
    assert m["gini_change"] == pytest.approx(m["round/2/gini"] - m["round/0/gini"])
