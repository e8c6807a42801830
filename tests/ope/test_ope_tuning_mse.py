"""The MSE-bound choice of the clipping cap (Su, Dimakopoulou, Krishnamurthy & Dudik 2020,
section 5) computed by hand, for IPW (whose bias term uses ``r``; issue 14) and for DR (whose
bias term uses ``r - q_hat``)."""

from __future__ import annotations

import numpy as np
import pytest

from causalrec.ope import DoublyRobust, InverseProbabilityWeighting, LoggedFeedback

LAMBDAS = (2.0, 5.0, np.inf)
DELTA = 0.05


def _log():
    """2000 rounds, two actions, one slot. The logging policy shows action 1 with
    probability 0.2 and action 0 with 0.8; the evaluation policy is (0.45, 0.55), so ``w``
    is 0.45/0.8 or 2.75. Rewards: action 1 is clicked at rate 0.95, action 0 at 0.1. The
    reward model knows the click rates exactly, so ``r - q_hat`` is small where ``r`` is
    not: clipping at 2 looks nearly unbiased through the residual, but is not."""
    rng = np.random.default_rng(3)
    n = 2000
    action = (rng.random(n) < 0.2).astype(int)
    rate = np.where(action == 1, 0.95, 0.1)
    reward = (rng.random(n) < rate).astype(float)
    pscore = np.where(action == 1, 0.2, 0.8)
    fb = LoggedFeedback.build(action=action, reward=reward, pscore=pscore, n_actions=2)
    pi = np.tile(np.array([0.45, 0.55])[None, :, None], (n, 1, 1))
    q_hat = np.tile(np.array([0.1, 0.95])[None, :, None], (n, 1, 1))
    return fb, pi, q_hat


def _hand_mse(w, w_hat, reward, resid):
    """var(w_hat r)/n + (|mean((w - w_hat) resid)| + sqrt(2 mean(w^2) log(2/delta)/n)
    + 2 max(w) log(2/delta) / (3n))^2, written out."""
    n = len(w)
    values = w_hat * reward
    var = np.sum((values - np.sum(values) / n) ** 2) / n
    log_term = np.log(2.0 / DELTA)
    bias = abs(np.sum((w - w_hat) * resid) / n)
    bias += np.sqrt(2.0 * np.sum(w * w) / n * log_term / n)
    bias += 2.0 * np.max(w) * log_term / (3.0 * n)
    return var / n + bias ** 2


def test_ipw_mse_tuning_uses_the_reward_not_the_residual_with_a_reward_model():
    fb, pi, q_hat = _log()
    w = np.where(fb.action == 1, 0.55 / 0.2, 0.45 / 0.8)
    q = np.where(fb.action == 1, 0.95, 0.1)
    clipped = [np.minimum(w, lam) for lam in LAMBDAS]
    with_r = [_hand_mse(w, wh, fb.reward, fb.reward) for wh in clipped]
    with_resid = [_hand_mse(w, wh, fb.reward, fb.reward - q) for wh in clipped]
    want = LAMBDAS[int(np.argmin(with_r))]
    wrong = LAMBDAS[int(np.argmin(with_resid))]
    # the log is built so that the two bias terms choose differently (5 and inf tie: w <= 5,
    # and the first of equal scores is kept, as numpy's argmin and OBP do)
    assert want == 5.0 and wrong == 2.0
    ipw = InverseProbabilityWeighting(LAMBDAS, tuning="mse", delta=DELTA)
    for rewards in (None, q_hat):  # the reward model must not change IPW's choice
        est = ipw.estimate(fb, pi, rewards, n_bootstrap=2, seed=0)
        assert est.lambda_ == want
        assert est.value == pytest.approx(np.mean(np.minimum(w, want) * fb.reward), abs=1e-12)


def test_dr_mse_tuning_uses_the_residual():
    fb, pi, q_hat = _log()
    w = np.where(fb.action == 1, 0.55 / 0.2, 0.45 / 0.8)
    resid = fb.reward - np.where(fb.action == 1, 0.95, 0.1)
    q_pi = 0.45 * 0.1 + 0.55 * 0.95
    scores = []
    for lam in LAMBDAS:
        wh = np.minimum(w, lam)
        values = q_pi + wh * resid
        n = len(w)
        log_term = np.log(2.0 / DELTA)
        bias = abs(np.mean((w - wh) * resid)) + np.sqrt(2 * np.mean(w ** 2) * log_term / n) \
            + 2 * w.max() * log_term / (3 * n)
        scores.append(np.var(values) / n + bias ** 2)
    want = LAMBDAS[int(np.argmin(scores))]
    est = DoublyRobust(LAMBDAS, tuning="mse", delta=DELTA).estimate(fb, pi, q_hat,
                                                                   n_bootstrap=2, seed=0)
    assert est.lambda_ == want
    assert est.value == pytest.approx(np.mean(q_pi + np.minimum(w, want) * resid), abs=1e-12)
