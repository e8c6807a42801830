"""The simulator's ground truth agrees with the graph layer fitted on its discrete export."""

from __future__ import annotations

import numpy as np
import pytest

from causalrec.sim import simulate


def test_bn_fitted_on_discrete_export_recovers_true_ate_and_cate():
    from causalrec.graphs import ate, cate, fit

    res = simulate("popularity_bias", n_users=4000, n_items=300, per_user=25, seed=6,
                   randomized_users=0.0)
    df = res.to_discrete_frame()
    bn = fit("popularity_bias", df)
    est = ate(bn, "exposure", "click")
    # the BN's adjusted ATE is the backdoor estimate; its standard error is about this size
    n1, n0 = (df.exposure == 1).sum(), (df.exposure == 0).sum()
    se = np.sqrt(0.25 / n1 + 0.25 / n0)
    assert abs(est - res.truth.ate) < 3 * se, (est, res.truth.ate, se)
    naive = df[df.exposure == 1].click.mean() - df[df.exposure == 0].click.mean()
    assert abs(naive - res.truth.ate) > 5 * se
    for s in (0, 2):
        got = cate(bn, "exposure", "click", {"intent": s})
        assert abs(got - res.truth.cate_by_intent[s]) < 3 * se * np.sqrt(3), (s, got)


def test_bn_mediation_formula_matches_true_natural_effects():
    from causalrec.graphs import fit, mediation

    res = simulate("mediation", n_users=4000, n_items=300, per_user=25, seed=6,
                   randomized_users=0.0)
    bn = fit("mediation", res.to_discrete_frame())
    got = mediation(bn, "exposure", "click", "purchase")
    want = res.truth.mediation["purchase"]
    n = len(res.data)
    se = 2 * np.sqrt(0.25 / (0.3 * n))
    for key in ("total", "natural_direct", "natural_indirect"):
        assert got[key] == pytest.approx(want[key], abs=3 * se), (key, got[key], want[key])
