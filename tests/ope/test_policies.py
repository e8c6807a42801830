"""Evaluation policies: slot marginals against brute-force enumeration and simulation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from causalrec.ope import (
    LoggedFeedback,
    bernoulli_ts_action_dist,
    beta_prior_from_logs,
    softmax_policy,
    topk_policy,
    uniform_policy,
)


def _plackett_luce_brute_force(p: np.ndarray, k: int) -> np.ndarray:
    """Enumerate every ordered k-prefix of a Plackett-Luce draw and its probability."""
    a = p.shape[0]
    out = np.zeros((a, k))
    for prefix in itertools.permutations(range(a), k):
        prob, left = 1.0, 1.0
        for item in prefix:
            prob *= p[item] / left
            left -= p[item]
        for slot, item in enumerate(prefix):
            out[item, slot] += prob
    return out


def test_uniform_policy():
    d = uniform_policy(4, 3, n_rounds=2)
    assert d.shape == (2, 4, 3)
    np.testing.assert_allclose(d, 0.25)
    with pytest.raises(ValueError, match="at least as many actions"):
        uniform_policy(2, 3)


def test_topk_policy_by_hand():
    scores = np.array([[0.1, 0.9, 0.5, 0.5], [3.0, 2.0, 1.0, 0.0]])
    d = topk_policy(scores, 3)
    # round 0: 1 first, then the tie 2/3 goes to the lower index 2, then 3
    assert d[0].argmax(axis=0).tolist() == [1, 2, 3]
    assert d[1].argmax(axis=0).tolist() == [0, 1, 2]
    np.testing.assert_allclose(d.sum(axis=1), 1.0)
    assert d[0, 0].sum() == 0.0          # action 0 is never shown in round 0


@pytest.mark.parametrize("k", [1, 2, 3])
def test_softmax_policy_exact_matches_enumeration(k):
    rng = np.random.default_rng(k)
    scores = rng.normal(scale=2.0, size=(5, 6))
    d = softmax_policy(scores, k, temperature=0.7)
    for i in range(5):
        z = np.exp(scores[i] / 0.7 - (scores[i] / 0.7).max())
        ref = _plackett_luce_brute_force(z / z.sum(), k)
        np.testing.assert_allclose(d[i], ref, atol=1e-12)
    np.testing.assert_allclose(d.sum(axis=1), 1.0)


def test_softmax_policy_monte_carlo_for_long_lists():
    scores = np.array([[1.0, 0.0, 2.0, -1.0, 0.5]])
    d = softmax_policy(scores, 4, n_samples=20000, seed=0)
    z = np.exp(scores[0] - scores[0].max())
    ref = _plackett_luce_brute_force(z / z.sum(), 4)
    np.testing.assert_allclose(d[0], ref, atol=0.015)


def test_softmax_policy_accepts_tensors_and_rejects_nan():
    class FakeTensor:  # the duck type of a torch tensor (detach/cpu/numpy), without torch
        def __init__(self, a):
            self.a = a

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.a

    s = np.array([[0.0, 1.0, 2.0]])
    np.testing.assert_allclose(softmax_policy(FakeTensor(s), 1), softmax_policy(s, 1))
    with pytest.raises(ValueError, match="finite"):
        softmax_policy(np.array([[0.0, np.nan]]))


def test_bts_action_dist_equals_a_loop_over_simulations():
    alpha = np.array([2.0, 30.0, 5.0, 1.0, 12.0])
    beta = np.array([50.0, 400.0, 60.0, 30.0, 100.0])
    got = bernoulli_ts_action_dist(alpha, beta, 3, n_sim=500, seed=3, chunk_size=7)
    rng = np.random.default_rng(3)
    ref = np.zeros((5, 3))
    for _ in range(500):
        ranked = np.argsort(-rng.beta(alpha, beta))[:3]
        ref[ranked, np.arange(3)] += 1
    np.testing.assert_allclose(got[0], ref / 500)
    assert got.shape == (1, 5, 3)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


def test_bts_action_dist_follows_the_posterior():
    # one action is almost surely best, another almost surely worst
    alpha = np.array([900.0, 1.0, 50.0, 50.0])
    beta = np.array([100.0, 999.0, 950.0, 950.0])
    d = bernoulli_ts_action_dist(alpha, beta, 4, n_sim=4000, seed=0)[0]
    assert d[0, 0] > 0.999 and d[1, 3] > 0.999
    np.testing.assert_allclose(d[2, 1:3], 0.5, atol=0.05)   # the two tied actions share
    with pytest.raises(ValueError, match="must be > 0"):
        bernoulli_ts_action_dist([1.0, 0.0], [1.0, 1.0])


def test_beta_prior_from_logs_counts_clicks():
    fb = LoggedFeedback.build(action=[0, 0, 1, 2, 2, 2], reward=[1, 0, 0, 1, 1, 0],
                              pscore=np.full(6, 1 / 3), n_actions=4)
    a, b = beta_prior_from_logs(fb)
    np.testing.assert_allclose(a, [2, 1, 3, 1])
    np.testing.assert_allclose(b, [2, 2, 2, 1])
    with pytest.raises(ValueError, match="binary rewards"):
        beta_prior_from_logs(LoggedFeedback.build([0], [0.5], [1.0]))
