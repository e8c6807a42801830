"""Off-policy estimators against hand-computed values on a tiny log, their limits and
equivalences, input validation, the shared bootstrap and hyperparameter tuning."""

from __future__ import annotations

import math

import numpy as np
import pytest

from causalrec.data import DataValidationError
from causalrec.ope import (
    DirectMethod,
    DoublyRobust,
    DoublyRobustWithShrinkage,
    InverseProbabilityWeighting,
    LoggedFeedback,
    OffPolicyEvaluation,
    SelfNormalizedDoublyRobust,
    SelfNormalizedInverseProbabilityWeighting,
    SwitchDoublyRobust,
    bootstrap_means,
    round_inputs,
)
from causalrec.ope.synthetic import random_action_dist, random_feedback
from causalrec.ope.tuning import mse_upper_bound, slope_select, student_t_half_width

# a tiny two-action, two-slot log
#   row  action  slot  reward  pscore   pi_e(a_i|slot)   w = pi_e/pscore
#    0     0      0      1      0.5       0.8             1.6
#    1     1      0      0      0.5       0.2             0.4
#    2     1      1      1      0.25      0.6             2.4
#    3     0      1      0      0.8       0.4             0.5
FEEDBACK = {"action": [0, 1, 1, 0], "position": [0, 0, 1, 1], "reward": [1, 0, 1, 0],
            "pscore": [0.5, 0.5, 0.25, 0.8]}
PI = np.array([[0.8, 0.4], [0.2, 0.6]])          # pi_e[a, slot], the same every round
Q = np.array([[0.5, 0.3], [0.2, 0.6]])           # q_hat[a, slot], the same every round
ACTION_DIST = np.tile(PI, (4, 1, 1))
Q_HAT = np.tile(Q, (4, 1, 1))
W = np.array([1.6, 0.4, 2.4, 0.5])
RESID = np.array([1 - 0.5, 0 - 0.2, 1 - 0.6, 0 - 0.3])   # r - q_hat(x, a_i, slot_i)
DM = (0.8 * 0.5 + 0.2 * 0.2) / 2 + (0.4 * 0.3 + 0.6 * 0.6) / 2   # = 0.46

HAND = {
    "dm": (DirectMethod(), DM),
    "ipw": (InverseProbabilityWeighting(), (1.6 + 2.4) / 4),
    "ipw-clip2": (InverseProbabilityWeighting(2.0, name="ipw-clip2"), (1.6 + 2.0) / 4),
    "snipw": (SelfNormalizedInverseProbabilityWeighting(), (1.6 + 2.4) / 4.9),
    "dr": (DoublyRobust(), DM + (0.8 - 0.08 + 0.96 - 0.15) / 4),
    "dr-clip2": (DoublyRobust(2.0, name="dr-clip2"), DM + (0.8 - 0.08 + 2.0 * 0.4 - 0.15) / 4),
    "sndr": (SelfNormalizedDoublyRobust(), DM + (0.8 - 0.08 + 0.96 - 0.15) / 4.9),
    "switch-dr": (SwitchDoublyRobust(2.0), DM + (0.8 - 0.08 + 0.0 - 0.15) / 4),
    "dr-os": (DoublyRobustWithShrinkage(1.0),
              DM + (1.6 / 3.56 * 0.5 - 0.4 / 1.16 * 0.2 + 2.4 / 6.76 * 0.4
                    - 0.5 / 1.25 * 0.3) / 4),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_estimators_match_hand_computed_values(name):
    est, expected = HAND[name]
    res = est.estimate(FEEDBACK, ACTION_DIST, Q_HAT, n_bootstrap=50, seed=1)
    assert res.value == pytest.approx(expected, abs=1e-12)
    assert res.ci_lower <= res.ci_upper
    inputs = round_inputs(FEEDBACK, ACTION_DIST, Q_HAT)
    assert est.round_rewards(inputs).mean() == pytest.approx(expected, abs=1e-12)


def test_round_inputs_hand_values():
    inputs = round_inputs(FEEDBACK, ACTION_DIST, Q_HAT)
    np.testing.assert_allclose(inputs.iw, W)
    np.testing.assert_allclose(inputs.reward - inputs.q_factual, RESID)
    np.testing.assert_allclose(inputs.q_policy, [0.44, 0.44, 0.48, 0.48])


def test_action_dist_layouts_agree():
    """OBP [n, A, P], context-free [1, A, P] and at-logged-slot [n, A] give one answer."""
    pos = np.array(FEEDBACK["position"])
    layouts = [(ACTION_DIST, Q_HAT), (PI[None], Q[None]),
               (PI.T[pos], Q.T[pos])]
    ope = OffPolicyEvaluation([DirectMethod(), InverseProbabilityWeighting(), DoublyRobust(),
                               SelfNormalizedDoublyRobust()])
    values = [ope.estimate(FEEDBACK, ad, q, n_bootstrap=10)["value"].to_numpy()
              for ad, q in layouts]
    for v in values[1:]:
        np.testing.assert_allclose(v, values[0], atol=1e-12)


def _random_log(rng, n=400, a=6, p=3):
    fb = random_feedback(n, a, p, rng, pscore=(0.05, 0.6))
    ad = random_action_dist(n, a, p, rng)
    q = rng.uniform(0, 1, size=(n, a, p))
    return fb, ad, q


def test_weight_modification_limits():
    """DRos(0) = Switch-DR(0) = DM; DRos(inf) = Switch-DR(inf) = DR(inf); clipping at the
    maximum weight changes nothing; SNIPW = IPW when the weights average to one."""
    fb, ad, q = _random_log(np.random.default_rng(0))
    inputs = round_inputs(fb, ad, q)
    dm = DirectMethod().point_estimate(inputs)
    dr = DoublyRobust().point_estimate(inputs)
    assert DoublyRobustWithShrinkage(0.0).point_estimate(inputs) == pytest.approx(dm)
    assert SwitchDoublyRobust(0.0).point_estimate(inputs) == pytest.approx(dm)
    assert DoublyRobustWithShrinkage(math.inf).point_estimate(inputs) == pytest.approx(dr)
    assert SwitchDoublyRobust(math.inf).point_estimate(inputs) == pytest.approx(dr)
    assert DoublyRobust(inputs.iw.max()).point_estimate(inputs) == pytest.approx(dr)
    # shrinkage weights never exceed the raw weights and grow with lambda
    w = inputs.iw
    w1 = DoublyRobustWithShrinkage(1.0).modified_weights(w)
    w100 = DoublyRobustWithShrinkage(100.0).modified_weights(w)
    assert (w1 <= w + 1e-15).all() and (w1 <= w100 + 1e-15).all()
    # a uniform evaluation policy logged uniformly: all weights are 1
    n = fb.n_rounds
    uni = round_inputs(LoggedFeedback.build(fb.action, fb.reward, np.full(n, 1 / 6),
                                            fb.position, n_actions=6),
                       np.full((1, 6, 3), 1 / 6))
    assert InverseProbabilityWeighting().point_estimate(uni) == pytest.approx(fb.reward.mean())
    assert SelfNormalizedInverseProbabilityWeighting().point_estimate(uni) == \
        pytest.approx(fb.reward.mean())


def test_bootstrap_means_equal_explicit_resampling():
    rng = np.random.default_rng(3)
    terms = rng.normal(size=(3, 257))
    got = bootstrap_means(terms, 40, seed=11)
    idx = np.random.default_rng(11).integers(0, 257, size=(40, 257))
    ref = terms[:, idx].mean(axis=2).T
    np.testing.assert_allclose(got, ref, atol=1e-12)
    np.testing.assert_allclose(bootstrap_means(terms[0], 40, seed=11), ref[:, 0], atol=1e-12)


def test_bootstrap_chunking_and_standard_error(monkeypatch):
    import causalrec.ope.bootstrap as ob

    x = np.random.default_rng(5).exponential(size=2000)
    whole = ob.bootstrap_means(x, 64, seed=2)
    monkeypatch.setattr(ob, "_CHUNK_ELEMENTS", 2000 * 5)   # 5 resamples per chunk
    chunked = ob.bootstrap_means(x, 64, seed=2)
    np.testing.assert_allclose(chunked, whole)
    boot = ob.bootstrap_means(x, 2000, seed=0)
    se = x.std() / np.sqrt(x.size)
    assert boot.std() == pytest.approx(se, rel=0.1)
    assert boot.mean() == pytest.approx(x.mean(), abs=3 * se / np.sqrt(2000) * 10)


def test_shared_bootstrap_matches_single_estimators():
    fb, ad, q = _random_log(np.random.default_rng(1))
    ests = [DirectMethod(), SelfNormalizedInverseProbabilityWeighting(),
            SelfNormalizedDoublyRobust(), DoublyRobust(5.0)]
    table = OffPolicyEvaluation(ests).estimate(fb, ad, q, n_bootstrap=60, seed=7, alpha=0.1)
    for e in ests:
        single = e.estimate(fb, ad, q, n_bootstrap=60, seed=7, alpha=0.1)
        row = table.loc[e.name]
        assert row["value"] == pytest.approx(single.value)
        assert row["ci_lower"] == pytest.approx(single.ci_lower)
        assert row["ci_upper"] == pytest.approx(single.ci_upper)
        assert row["std_error"] == pytest.approx(single.std_error)
    # the self-normalised estimator is re-normalised inside every resample
    inputs = round_inputs(fb, ad, q)
    t = SelfNormalizedInverseProbabilityWeighting().terms(inputs)
    idx = np.random.default_rng(7).integers(0, fb.n_rounds, size=(60, fb.n_rounds))
    ref = (t[0][idx].sum(1) / t[1][idx].sum(1))
    lo, hi = np.percentile(ref, [5, 95])
    assert table.loc["snipw", "ci_lower"] == pytest.approx(lo)
    assert table.loc["snipw", "ci_upper"] == pytest.approx(hi)


def test_default_estimators_and_relative_errors():
    fb, ad, q = _random_log(np.random.default_rng(2))
    ope = OffPolicyEvaluation()
    table = ope.estimate(fb, ad, q, n_bootstrap=20)
    assert list(table.index) == ["dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os"]
    assert (table["ci_lower"] <= table["ci_upper"]).all()
    rel = ope.relative_errors(0.5, fb, ad, q)
    np.testing.assert_allclose(rel.to_numpy(), np.abs(table["value"].to_numpy() - 0.5) / 0.5)


def test_slope_and_mse_selection_by_hand():
    # candidates ordered by width 4, 2, 1, 0.5; the third deviates from the first two
    est = np.array([0.0, 0.5, 5.0, 5.1])
    wid = np.array([4.0, 2.0, 1.0, 0.5])
    # 2nd: |0.5 - 0| <= 2 + C*4 -> keep; 3rd: |5 - 0| = 5 <= 1 + 1.449*4 = 6.8 ok,
    # |5 - 0.5| = 4.5 <= 1 + 1.449*2 = 3.9 fails -> return the 2nd
    assert slope_select(est, wid) == 1
    assert slope_select(np.zeros(4), wid) == 3     # all consistent: the narrowest
    assert slope_select(est[[3, 2, 1, 0]], wid[[3, 2, 1, 0]]) == 2   # order-invariant
    x = np.array([[0.0, 1.0, 2.0, 3.0]])
    t = 2.3533634348018264   # Student t_3 0.95 quantile
    assert student_t_half_width(x, 0.05)[0] == pytest.approx(t * np.sqrt(1.25 / 3))
    r = np.array([1.0, 0.0, 1.0, 0.0])
    w = np.array([2.0, 1.0, 4.0, 1.0])
    w_hat = np.minimum(w, 2.0)
    vals = np.array([2.0, 0.0, 2.0, 0.0])
    l2 = np.log(40.0)
    bias = abs(np.mean((w - w_hat) * r)) + np.sqrt(2 * 5.5 * l2 / 4) + 2 * 4 * l2 / 12
    assert mse_upper_bound(vals, r, w, w_hat, None, 0.05) == pytest.approx(1.0 / 4 + bias ** 2)


def test_tuned_estimators_choose_among_candidates():
    fb, ad, q = _random_log(np.random.default_rng(4), n=800)
    inputs = round_inputs(fb, ad, q)
    for tuning in ("slope", "mse"):
        est = DoublyRobustWithShrinkage([0.5, 5.0, math.inf], tuning=tuning)
        res = est.estimate(fb, ad, q, n_bootstrap=10)
        assert res.lambda_ in (0.5, 5.0, math.inf)
        fixed = DoublyRobustWithShrinkage(res.lambda_).point_estimate(inputs)
        assert res.value == pytest.approx(fixed)
    # SLOPE by hand for Switch-DR over two candidates
    cands = [0.0, math.inf]
    vals = np.stack([SwitchDoublyRobust(c).round_rewards(inputs) for c in cands])
    pick = cands[slope_select(vals.mean(1), student_t_half_width(vals))]
    assert SwitchDoublyRobust(cands).estimate(fb, ad, q, n_bootstrap=5).lambda_ == pick


def test_invalid_inputs_are_named():
    bad = dict(FEEDBACK, pscore=[0.5, 0.0, 0.25, 0.8])
    with pytest.raises(DataValidationError, match=r"pscore.*rows \[1\]"):
        InverseProbabilityWeighting().estimate(bad, ACTION_DIST)
    with pytest.raises(DataValidationError, match="'reward'.*has 3 rows"):
        LoggedFeedback.from_obp(dict(FEEDBACK, reward=[1, 0, 1]))
    with pytest.raises(DataValidationError, match="missing required key"):
        LoggedFeedback.from_obp({"action": [0]})
    with pytest.raises(DataValidationError, match="out of range for n_actions=2"):
        LoggedFeedback.build([0, 2], [0, 1], [0.5, 0.5], n_actions=2)
    wrong = ACTION_DIST.copy()
    wrong[2, :, 1] = [0.5, 0.6]
    with pytest.raises(DataValidationError, match=r"action_dist.*rows \[2\]"):
        DoublyRobust().estimate(FEEDBACK, wrong, Q_HAT)
    with pytest.raises(DataValidationError, match="shape"):
        DirectMethod().estimate(FEEDBACK, ACTION_DIST[:, :1], Q_HAT)
    with pytest.raises(DataValidationError, match="has 1 position"):
        InverseProbabilityWeighting().estimate(FEEDBACK, ACTION_DIST[:, :, :1])
    with pytest.raises(ValueError, match="needs estimated_rewards"):
        DoublyRobust().estimate(FEEDBACK, ACTION_DIST)
    with pytest.raises(ValueError, match=r"\['dm', 'dr'\] need estimated_rewards"):
        OffPolicyEvaluation([DirectMethod(), InverseProbabilityWeighting(), DoublyRobust()]) \
            .estimate(FEEDBACK, ACTION_DIST)
    with pytest.raises(ValueError, match="lambda_ must be >= 0"):
        DoublyRobust(-1.0)
    with pytest.raises(ValueError, match="tuning lambda_ is supported"):
        SelfNormalizedDoublyRobust([1.0, 2.0])
    with pytest.raises(ValueError, match="names must be unique"):
        OffPolicyEvaluation([DoublyRobust(), DoublyRobust(3.0)])
