"""The semi-synthetic uplift protocol (causalrec.sim.uplift) on small generated rating tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import InteractionData
from causalrec.evaluation import causal_ranking_metrics
from causalrec.sim.semisynthetic import fit_mf
from causalrec.sim.uplift import (
    COMMON,
    DESIGNS,
    fit_logistic_mf,
    logging_propensities,
    simulate_uplift,
)


def _ratings(n_users=40, n_items=60, share=0.25, seed=0):
    rng = np.random.default_rng(seed)
    pop = rng.random(n_items) ** 2  # popular items are rated more often
    obs = rng.random((n_users, n_items)) < share * 2 * pop[None, :]
    obs[:, 0] = True  # every user rated item 0, every item is rated by user 0
    obs[0, :] = True
    u, i = np.nonzero(obs)
    r = rng.integers(1, 6, size=len(u)).astype(np.float32)
    df = pd.DataFrame({"user": u.astype(np.int64), "item": i.astype(np.int64), "rating": r})
    return InteractionData(df, n_users, n_items, name="tiny")


SMALL = dict(num_rec=6, capping=0.03, watch_iters=40, control_negatives=None)


@pytest.fixture(scope="module")
def tiny():
    return _ratings()


@pytest.fixture(scope="module")
def full_log(tiny):
    return simulate_uplift(tiny, seed=3, rank=3, iters=5, sato=SMALL)


def test_logging_propensities_by_hand():
    # one user, scores in shuffled order: ranks 2, 4, 1, 3
    s = np.array([[0.5, 0.1, 0.9, 0.3]])
    base = np.array([1 / 2, 1 / 4, 1, 1 / 3])
    np.testing.assert_allclose(logging_propensities(s, 2), [base * 2 / base.sum()])
    # num_rec 3: rank 1 would get 1.44 -> 1, the rest share 2 by 1/rank: 12/13, 8/13, 6/13
    np.testing.assert_allclose(logging_propensities(s, 3), [[12 / 13, 6 / 13, 1, 8 / 13]])
    log = 1 / np.log2(np.array([2, 4, 1, 3]) + 1.0)
    np.testing.assert_allclose(logging_propensities(s, 1, mode="logrank"), [log / log.sum()])
    sq = base ** 2
    np.testing.assert_allclose(logging_propensities(s, 1, power=2), [sq / sq.sum()])
    with pytest.raises(ValueError, match=r"num_rec must lie in \(0, 4\] \(the items per user\)"):
        logging_propensities(s, 5)
    with pytest.raises(ValueError, match="mode must be 'rank' or 'logrank', got 'lin'"):
        logging_propensities(s, 1, mode="lin")


@pytest.mark.parametrize("mode", ["rank", "logrank"])
def test_propensities_sum_to_num_rec_and_fall_with_rank(mode):
    s = np.random.default_rng(1).random((30, 200))
    for num_rec in (1, 20, 90):
        p = logging_propensities(s, num_rec, mode=mode)
        np.testing.assert_allclose(p.sum(1), num_rec, rtol=1e-9)
        assert p.max() <= 1.0 and p.min() > 0
        order = np.argsort(-s, axis=1)
        assert (np.diff(np.take_along_axis(p, order, 1), axis=1) <= 1e-12).all()
    assert (logging_propensities(s, 90, mode=mode) == 1.0).any()  # clipping was needed


def test_logistic_mf_matches_row_and_column_means_and_separates():
    rng = np.random.default_rng(0)
    a, b = rng.random(50) < 0.4, rng.random(70) < 0.3
    w = (a[:, None] & b[None, :]).astype(float)  # rank one: separable
    w_hat = fit_logistic_mf(w, rank=2, iters=400, lr=0.1, seed=0)
    # unpenalised biases: at the optimum the fitted means equal the observed ones
    assert w_hat.mean() == pytest.approx(w.mean(), abs=2e-3)
    np.testing.assert_allclose(w_hat.mean(1), w.mean(1), atol=0.02)
    np.testing.assert_allclose(w_hat.mean(0), w.mean(0), atol=0.02)
    assert w_hat[w == 1].min() > 0.8 and w_hat[w == 0].max() < 0.2
    np.testing.assert_array_equal(w_hat, fit_logistic_mf(w, rank=2, iters=400, lr=0.1, seed=0))
    with pytest.raises(ValueError, match="0/1 matrix"):
        fit_logistic_mf(w * 2)


def test_generator_probabilities_by_hand(tiny):
    opts = dict(steepness=2.0, offset=3.0, scaling=2.0, mode="logrank", power=1.5,
                num_rec=5, capping=0.05, watch_rank=2, watch_iters=30, control_negatives=None)
    _, truth = simulate_uplift(tiny, seed=7, rank=3, reg=5.0, iters=4, sato=opts)
    df = tiny.interactions
    u, i = df["user"].to_numpy(), df["item"].to_numpy()
    r_hat = fit_mf(u, i, df["rating"].to_numpy(np.float64), 40, 60, rank=3, reg=5.0, iters=4,
                   seed=7).predict()
    watched = np.zeros((40, 60))
    watched[u, i] = 1
    w_hat = fit_logistic_mf(watched, rank=2, iters=30, seed=7)
    np.testing.assert_allclose(truth.p1, 1 / (1 + np.exp(-2.0 * (r_hat - 3.0))))
    np.testing.assert_allclose(truth.p0, w_hat ** 2.0)
    np.testing.assert_allclose(truth.tau, truth.p1 - truth.p0)


def test_logged_propensities_are_the_capped_rank_policy(tiny, full_log):
    data, truth = full_log
    df = data.interactions
    assert len(df) == 40 * 60  # control_negatives=None: every pair
    cap = SMALL["capping"]
    raw = logging_propensities((truth.p0 + truth.p1) / 2, 6)
    np.testing.assert_allclose(raw.sum(1), 6)
    expected = np.clip(raw, cap, 1 - cap)[df["user"], df["item"]]
    np.testing.assert_allclose(df["propensity"], expected)
    assert df["propensity"].between(cap, 1 - cap).all()
    assert (df["propensity"] == 1 - cap).any() and (df["propensity"] == cap).any()


def test_treated_share_matches_propensities():
    data, _ = simulate_uplift(_ratings(200, 80, seed=2), seed=0, rank=3, iters=5,
                              sato=dict(num_rec=20, watch_iters=20, control_negatives=None))
    df = data.interactions
    e, p = df["exposure"].to_numpy(float), df["propensity"].to_numpy()
    assert abs(e.mean() - p.mean()) < 4 * np.sqrt((p * (1 - p)).sum()) / len(p)
    edges = np.quantile(p, [0, 0.25, 0.5, 0.75, 0.9, 1])
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (p >= lo) & (p <= hi)
        assert m.sum() > 1000
        se = np.sqrt((p[m] * (1 - p[m])).sum()) / m.sum()
        assert abs(e[m].mean() - p[m].mean()) < 4 * se, (lo, hi)


def test_observed_outcome_follows_the_arm():
    data, truth = simulate_uplift(_ratings(200, 80, seed=2), seed=1, rank=3, iters=5,
                                  sato=dict(num_rec=30, watch_iters=20, control_negatives=None))
    df = data.interactions
    for arm, mu in ((1, "true_mu1"), (0, "true_mu0")):
        g = df[df["exposure"] == arm]
        se = np.sqrt((g[mu] * (1 - g[mu])).sum()) / len(g)
        assert abs(g["label"].mean() - g[mu].mean()) < 4 * se


def test_control_negatives_are_sampled_with_their_inclusion_probability(tiny, full_log):
    sub, truth = simulate_uplift(tiny, seed=3, rank=3, iters=5,
                                 sato={**SMALL, "control_negatives": 10})
    full = full_log[0].interactions
    df = sub.interactions
    np.testing.assert_array_equal(truth.tau, full_log[1].tau)  # truth is exact, not sampled
    cn = (full["exposure"] == 0) & (full["label"] == 0)
    # the same draws: every treated or purchased pair is kept, with inclusion 1
    kept = df[(df["exposure"] == 1) | (df["label"] == 1)]
    pd.testing.assert_frame_equal(kept.reset_index(drop=True),
                                  full[~cn].reset_index(drop=True).assign(
                                      inclusion=1.0)[kept.columns])
    per_user_cn = cn.groupby(full["user"]).sum()
    sub_cn = df[(df["exposure"] == 0) & (df["label"] == 0)]
    np.testing.assert_array_equal(sub_cn.groupby("user").size(), np.minimum(10, per_user_cn))
    np.testing.assert_allclose(sub_cn["inclusion"],
                               np.minimum(10, per_user_cn[sub_cn["user"]]).to_numpy()
                               / per_user_cn[sub_cn["user"]].to_numpy())
    # Horvitz-Thompson: the inverse inclusion probabilities count every pair of a user
    np.testing.assert_allclose((1 / df["inclusion"]).groupby(df["user"]).sum(), 60)


def test_truth_columns_are_what_the_evaluation_reads(full_log):
    data, truth = full_log
    df = data.interactions
    u, i = df["user"].to_numpy(), df["item"].to_numpy()
    np.testing.assert_array_equal(df["true_mu0"], truth.p0[u, i])
    np.testing.assert_array_equal(df["true_mu1"], truth.p1[u, i])
    # every pair is logged here, so the columns rebuild the matrix the evaluation uses
    tau = np.full(truth.tau.shape, np.nan)
    tau[u, i] = df["true_mu1"] - df["true_mu0"]
    np.testing.assert_allclose(tau, truth.tau)

    class Oracle:
        def full_scores(self, users):
            return torch.as_tensor(tau[users.numpy()])

    top = np.sort(tau, axis=1)[:, ::-1][:, :5]
    got = causal_ranking_metrics(Oracle(), truth.tau, ks=(5,))
    assert got["cp@5"] == pytest.approx(top.mean())
    assert got["cdcg@5"] == pytest.approx((top / np.log2(np.arange(2, 7))).sum(1).mean())


def test_same_seed_same_log_other_seed_other_log(tiny):
    a, ta = simulate_uplift(tiny, seed=5, rank=3, iters=5, sato={**SMALL, "control_negatives": 8})
    b, tb = simulate_uplift(tiny, seed=5, rank=3, iters=5, sato={**SMALL, "control_negatives": 8})
    c, _ = simulate_uplift(tiny, seed=6, rank=3, iters=5, sato={**SMALL, "control_negatives": 8})
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    np.testing.assert_array_equal(ta.tau, tb.tau)
    assert not a.interactions[["user", "item", "exposure", "label"]].equals(
        c.interactions[["user", "item", "exposure", "label"]])
    assert a.meta["design"] == "sato" and a.meta["options"]["control_negatives"] == 8


def test_single_z_design_is_selectable(tiny):
    data, truth = simulate_uplift(tiny, design="single_z", seed=0, rank=3, iters=5,
                                  single_z={"candidates": 7})
    df = data.interactions
    assert len(df) == 40 * 7 and data.meta["design"] == "single_z"
    z = (np.log(truth.p0 / (1 - truth.p0)) + 3.5) / 1.5  # p0 = sigmoid(-3.5 + 1.5 z)
    z_p = 1 / (1 + np.exp(-(-2.0 + 1.0 * z)))  # logging: sigmoid(c0 + c1 z)
    np.testing.assert_allclose(df["propensity"],
                               np.clip(z_p, 0.02, 0.98)[df["user"], df["item"]])
    np.testing.assert_array_equal(df["true_mu1"], truth.p1[df["user"], df["item"]])


@pytest.mark.parametrize("kwargs, match", [
    (dict(design="sz"), r"unknown uplift design 'sz'; known: \['sato', 'single_z'\]"),
    (dict(sato={"num_recs": 5}), r"unknown options \['num_recs'\] of uplift design 'sato'"),
    (dict(single_z={"candidates": 0}), "'single_z' option candidates must be a positive"),
    (dict(sato={"mode": "linear"}), "option mode must be 'rank' or 'logrank', got 'linear'"),
    (dict(sato={"capping": 0.5}), r"option capping must lie in \[0, 0.5\), got 0.5"),
    (dict(sato={"control_negatives": 0}), "control_negatives must be a positive integer or null"),
])
def test_bad_options_name_the_key(tiny, kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_uplift(tiny, **kwargs)


def test_config_defaults_are_the_code_defaults():
    import causalrec as cr

    src = cr.experiment.compose(["dataset=ml100k_uplift"]).dataset.source
    assert src.design == "sato"
    assert {k: src[k] for k in COMMON} == COMMON
    assert dict(src.sato) == DESIGNS["sato"] and dict(src.single_z) == DESIGNS["single_z"]
    old = cr.experiment.compose(["dataset=ml100k_uplift_single_z"]).dataset.source
    assert old.design == "single_z" and dict(old.single_z) == DESIGNS["single_z"]
