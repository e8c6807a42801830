"""Poisson sampling of units and the accountant, against Opacus's own accountants."""

from __future__ import annotations

import numpy as np
import pytest

from causalrec.privacy.accountant import (
    advantage_bound,
    check_delta,
    check_epsilon,
    epsilon_spent,
    max_steps,
    noise_for_epsilon,
)
from causalrec.privacy.sampling import PoissonBatches, poisson_rows, unit_rows


def _epoch(n_users=50, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 9, size=n_users)
    users = np.repeat(np.arange(n_users), counts)
    perm = rng.permutation(len(users))
    users = users[perm]
    return lambda epoch: {"user": users, "item": np.arange(len(users)) + 1000,
                          "neg_item": np.arange(len(users)) + 5000}


def test_user_level_batch_holds_each_chosen_user_once_with_all_rows():
    make = _epoch()
    arrays = make(0)
    batches = PoissonBatches(make, "user", 50, sample_rate=0.2, steps_per_epoch=30, seed=3)
    per_user = np.bincount(arrays["user"], minlength=50)
    seen = np.zeros(50)
    for batch in batches:
        users, groups = batch["user"].numpy(), batch["group"].numpy()
        if (groups < 0).all():
            continue
        # group is the user; a chosen user brings every one of their rows, exactly once
        assert (groups == users).all()
        rows_of = np.bincount(users, minlength=50)
        chosen = np.flatnonzero(rows_of)
        assert (rows_of[chosen] == per_user[chosen]).all()
        assert len(np.unique(batch["item"].numpy())) == len(users)  # no row twice
        seen[chosen] += 1
    # Poisson: each user joins a step with probability 0.2 (30 steps, 50 users: 1500 draws)
    assert seen.sum() / 1500 == pytest.approx(0.2, abs=0.04)


def test_interaction_level_units_are_single_rows():
    make = _epoch()
    batch = next(iter(PoissonBatches(make, "interaction", 50, 0.3, 1, seed=0)))
    assert len(np.unique(batch["group"].numpy())) == len(batch["group"])
    n = len(make(0)["user"])
    assert 0.15 * n < len(batch["group"]) < 0.45 * n


def test_empty_draw_is_a_placeholder_step():
    order, pointer = unit_rows(np.array([0, 1, 1]), 2)
    rows, chosen = poisson_rows(np.random.default_rng(0), order, pointer, 1e-12)
    assert len(rows) == 0 and len(chosen) == 0
    batch = next(iter(PoissonBatches(_epoch(3), "user", 3, 1e-12, 1)))
    assert batch["group"].tolist() == [-1]


@pytest.mark.parametrize("sigma,q,steps,delta", [(1.1, 0.01, 1000, 1e-5), (0.8, 0.25, 37, 1e-3),
                                                 (2.0, 1.0, 5, 1 / 943)])
def test_epsilon_equals_opacus_accountants_stepped_one_by_one(sigma, q, steps, delta):
    from opacus.accountants import PRVAccountant, RDPAccountant

    rdp = RDPAccountant()
    for _ in range(steps):
        rdp.step(noise_multiplier=sigma, sample_rate=q)
    assert epsilon_spent(sigma, q, steps, delta, "rdp") == pytest.approx(
        rdp.get_epsilon(delta=delta), rel=1e-12)
    prv = PRVAccountant()
    for _ in range(steps):
        prv.step(noise_multiplier=sigma, sample_rate=q)
    assert epsilon_spent(sigma, q, steps, delta, "prv") == pytest.approx(
        prv.get_epsilon(delta=delta), rel=1e-9)


def test_noise_for_target_and_max_steps_bracket_the_budget():
    sigma = noise_for_epsilon(2.0, 1e-3, 0.05, 400)
    assert epsilon_spent(sigma, 0.05, 400, 1e-3) <= 2.0
    assert epsilon_spent(sigma * 0.97, 0.05, 400, 1e-3) > 1.95
    t = max_steps(sigma, 0.05, 2.0, 1e-3)
    assert t >= 400
    assert epsilon_spent(sigma, 0.05, t, 1e-3) <= 2.0 < epsilon_spent(sigma, 0.05, t + 1, 1e-3)


def test_advantage_bound_by_hand():
    e = np.exp(1.0)
    assert advantage_bound(1.0, 0.01) == pytest.approx((e - 1 + 0.02) / (e + 1))
    assert advantage_bound(float("inf"), 0.0) == 1.0
    assert advantage_bound(0.0 + 1e-12, 0.0) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "x"])
def test_bad_epsilon_names_the_key(bad):
    with pytest.raises(ValueError, match=r"privacy\.epsilon must be"):
        check_epsilon(bad)


@pytest.mark.parametrize("bad", [1.0, 1.5, 0.0, -0.1])
def test_bad_delta_names_the_key(bad):
    with pytest.raises(ValueError, match=r"privacy\.delta must lie in \(0, 1\)"):
        check_delta(bad)
