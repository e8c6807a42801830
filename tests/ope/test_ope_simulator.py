"""Off-policy estimates of a recommendation policy against the simulator's true value.

A world from :func:`causalrec.sim.world` provides ``E[click | do(exposure=1)]`` for
every (user, item). A stochastic logging policy (Plackett-Luce over random scores, 2 slots)
shows items to uniformly drawn users; clicks are drawn from the simulator's expectations.
The evaluation policy is the top-2 ranking of an intent-matching score matrix (user topic
mixture x item topic, plus log-popularity); its true value is the simulator's
``policy_value(scores, k=2)``. IPW and cross-fitted DR estimates from the log must land
within 3 bootstrap standard errors of that truth; DM with the same (additive, hence
misspecified) logistic reward model misses it by far more.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalrec.ope import (
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    LoggedFeedback,
    OffPolicyEvaluation,
    RewardModel,
    softmax_policy,
    topk_policy,
)

K = 2


@pytest.fixture(scope="module")
def world():
    from causalrec.sim import simulate

    return simulate(n_users=300, n_items=40, per_user=5, seed=0).truth


def test_ope_of_a_topk_policy_matches_the_simulator_truth(world):
    rng = np.random.default_rng(0)
    n_users, n_items = world.user_mixture.shape[0], world.item_topic.shape[0]
    topic = np.eye(world.user_mixture.shape[1])[world.item_topic]          # [items, topics]
    scores = 3.0 * world.user_mixture @ topic.T + np.log(world.item_popularity)[None, :]
    truth = world.policy_value(scores, K)

    pi_b = softmax_policy(rng.normal(size=(n_users, n_items)), K)          # [users, items, K]
    n = 20000
    users = rng.integers(0, n_users, n)
    slots = rng.integers(0, K, n)
    cdf = np.cumsum(pi_b[users, :, slots], axis=1)
    items = np.minimum((rng.uniform(size=(n, 1)) > cdf).sum(1), n_items - 1)
    clicks = rng.binomial(1, world.expected_outcomes(users, items, 1))
    fb = LoggedFeedback.build(items, clicks, pi_b[users, items, slots], slots,
                              context=world.user_mixture[users], n_actions=n_items,
                              n_positions=K)
    action_dist = topk_policy(scores, K)[users]

    q_hat = RewardModel(action_features="onehot", per_position=False, n_folds=2,
                        seed=0).fit_predict(fb, at_logged_position=True)
    table = OffPolicyEvaluation([InverseProbabilityWeighting(), DoublyRobust(),
                                 DirectMethod()]).estimate(fb, action_dist, q_hat,
                                                           n_bootstrap=200, seed=0)
    for name in ("ipw", "dr"):
        row = table.loc[name]
        assert abs(row["value"] - truth) < 3 * row["std_error"], (name, row["value"], truth)
        assert row["ci_lower"] <= truth <= row["ci_upper"]
    dm = table.loc["dm"]
    assert abs(dm["value"] - truth) > 10 * dm["std_error"]
    # the policy is much better than the logging policy's average click
    assert truth > 1.3 * clicks.mean()
