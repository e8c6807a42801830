"""Semi-synthetic protocol of Schnabel et al. 2016 on a generated low-rank rating matrix."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from causalrec.data import DataValidationError, InteractionData
from causalrec.sim.semisynthetic import (
    TARGET_DISTRIBUTION,
    fit_mf,
    load_semisynthetic,
    observation_propensities,
    quantile_ratings,
    simulate_semisynthetic,
)


def _low_rank_source(n_users=300, n_items=200, rank=3, share=0.3, seed=0):
    rng = np.random.default_rng(seed)
    truth = 3.0 + rng.normal(size=(n_users, rank)) @ rng.normal(size=(rank, n_items)) / 1.2
    obs = rng.random((n_users, n_items)) < share
    u, i = np.nonzero(obs)
    r = np.clip(np.round(truth[u, i] + rng.normal(scale=0.3, size=len(u))), 1, 5)
    df = pd.DataFrame({"user": u.astype(np.int64), "item": i.astype(np.int64),
                       "rating": r.astype(np.float32)})
    return InteractionData(df, n_users, n_items, name="lowrank"), truth


@pytest.fixture(scope="module")
def semi_result():
    src, _ = _low_rank_source()
    return simulate_semisynthetic(src, rank=3, reg=5.0, seed=1)


@pytest.fixture(scope="module")
def semi(semi_result):
    return semi_result.data


def test_mf_completion_recovers_held_out_ratings():
    src, truth = _low_rank_source()
    df = src.interactions
    rng = np.random.default_rng(1)
    test = rng.random(len(df)) < 0.2
    u, i, r = df.user.to_numpy(), df.item.to_numpy(), df.rating.to_numpy(float)
    m = fit_mf(u[~test], i[~test], r[~test], src.n_users, src.n_items, rank=3, reg=5.0)
    rmse = np.sqrt(np.mean((m.predict(u[test], i[test]) - r[test]) ** 2))
    baseline = np.sqrt(np.mean((r[~test].mean() - r[test]) ** 2))
    assert rmse < 0.6 * baseline, (rmse, baseline)
    full = m.predict()
    assert full.shape == (300, 200)
    assert np.corrcoef(full.ravel(), truth.ravel())[0, 1] > 0.9


def test_quantile_mapping_gives_the_target_shares_in_value_order():
    v = np.random.default_rng(0).normal(size=(50, 40))
    r = quantile_ratings(v)
    shares = np.bincount(r.ravel(), minlength=6)[1:] / r.size
    assert np.allclose(shares, TARGET_DISTRIBUTION, atol=1 / r.size)
    # monotone: every 1 is below every 2, etc.
    for a in range(1, 5):
        assert v[r == a].max() <= v[r == a + 1].min()
    with pytest.raises(ValueError, match="sum to 1"):
        quantile_ratings(v, (0.5, 0.2))


def test_propensities_follow_k_alpha_power_and_hit_the_observed_share():
    r = quantile_ratings(np.random.default_rng(0).normal(size=(100, 100)))
    p, k = observation_propensities(r, alpha=0.25, observed_fraction=0.05)
    assert p.mean() == pytest.approx(0.05)
    for rating, expect in ((5, k), (4, k), (3, k * 0.25), (2, k * 0.25**2), (1, k * 0.25**3)):
        assert np.allclose(p[r == rating], expect)
    with pytest.raises(ValueError, match="k=.* > 1"):
        observation_propensities(r, alpha=0.01, observed_fraction=0.5)


def test_observations_are_mnar_with_the_stated_propensities(semi, semi_result):
    tr = semi_result.truth
    df = semi.interactions
    logs = df[df.policy == "logging"]
    n = tr.ratings.size
    assert abs(len(logs) / n - 0.05) < 3 * np.sqrt(0.05 * 0.95 / n)
    assert np.allclose(logs.propensity, tr.propensities[logs.user, logs.item])
    assert np.array_equal(logs.rating.to_numpy(), tr.ratings[logs.user, logs.item])
    # observed rating distribution = p_r * prop_r / sum (the selection bias of the protocol)
    p = np.array(TARGET_DISTRIBUTION)
    w = p * 0.25 ** np.maximum(0, 4 - np.arange(1, 6))
    expected = w / w.sum()
    got = logs.rating.value_counts(normalize=True).sort_index().to_numpy()
    assert np.allclose(got, expected, atol=4 * np.sqrt(0.25 / len(logs)))
    # the randomized rows are MCAR: their distribution is the full matrix's
    rnd = df[df.policy == "random"]
    assert len(rnd) == 10 * semi.n_users
    got = rnd.rating.value_counts(normalize=True).sort_index().to_numpy()
    assert np.allclose(got, p, atol=4 * np.sqrt(0.25 / len(rnd)))
    assert set(df.label.unique()) == {0.0, 1.0}
    assert (df.label == (df.rating >= 4)).all()


def test_truth_metrics_and_determinism(semi, semi_result):
    tr = semi_result.truth
    # the data's meta carries the protocol's numbers as JSON, the arrays stay on the result
    assert json.loads(json.dumps(semi.meta["truth"]))["k"] == pytest.approx(tr.k)
    assert semi.meta["truth"]["shape"] == list(tr.ratings.shape)
    assert tr.mse(tr.ratings) == 0 and tr.mae(tr.ratings + 1) == 1
    best = tr.policy_value(tr.ratings + 1e-3 * np.random.default_rng(0).random(tr.ratings.shape), 5)
    assert best == pytest.approx(np.sort(tr.ratings, 1)[:, -5:].mean())
    assert tr.policy_value(-tr.ratings.astype(float), 5) == pytest.approx(1.0)
    src, _ = _low_rank_source()
    again = load_semisynthetic(src, rank=3, reg=5.0, seed=1)
    pd.testing.assert_frame_equal(again.interactions, semi.interactions)
    other = load_semisynthetic(src, rank=3, reg=5.0, seed=2)
    assert other.fingerprint() != semi.fingerprint()


def test_bad_sources_are_refused():
    df = pd.DataFrame({"user": [0, 1], "item": [1, 0], "label": [1.0, 0.0]})
    with pytest.raises(DataValidationError, match="needs explicit ratings"):
        load_semisynthetic(InteractionData(df, 2, 2))
    with pytest.raises(DataValidationError, match="dataset name or an InteractionData"):
        load_semisynthetic(42)


def test_registry_entry_runs_the_protocol():
    from causalrec.data import load

    src, _ = _low_rank_source(120, 90)
    data = load("ml-100k-semisynthetic", source=src, rank=3, reg=5.0, randomized_per_user=5)
    assert data.meta["truth"]["shape"] == [120, 90]
    assert set(data.interactions.policy) == {"logging", "random"}
