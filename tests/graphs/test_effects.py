"""Effects on data simulated from known CPDs: the network route and the direct estimators
recover the true ATE, the naive contrast does not; mediation; refuters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalrec import graphs as g

P_Z = np.array([0.5, 0.3, 0.2])
P_X1_Z = np.array([0.1, 0.5, 0.9])
P_Y1_XZ = np.array([[0.05, 0.2, 0.4],   # x = 0, z = 0, 1, 2
                    [0.10, 0.3, 0.6]])  # x = 1
TRUE_ATE = float(P_Z @ (P_Y1_XZ[1] - P_Y1_XZ[0]))  # 0.095


def simulate_intent_confounding(n: int, seed: int) -> pd.DataFrame:
    """Forward-sample the intent_confounding SCM: Z ~ P_Z, X | Z, Y | X, Z."""
    rng = np.random.default_rng(seed)
    z = rng.choice(3, size=n, p=P_Z)
    x = (rng.random(n) < P_X1_Z[z]).astype(int)
    y = (rng.random(n) < P_Y1_XZ[x, z]).astype(int)
    return pd.DataFrame({"intent": z, "exposure": x, "click": y})


@pytest.fixture(scope="module")
def data():
    return simulate_intent_confounding(50_000, seed=0)


def test_true_ate_by_hand():
    assert TRUE_ATE == pytest.approx(0.5 * 0.05 + 0.3 * 0.1 + 0.2 * 0.2)


def test_intent_confounding_recovery_bn_route_and_backdoor_vs_naive(data):
    spec = g.with_proxy("intent_confounding", "intent", "intent", data=data)  # intent observed
    estimand = g.identify(spec)
    assert estimand.kind == "backdoor" and estimand.adjustment_set == {"intent"}
    bn = g.fit(spec, data)
    bn_ate = g.ate(bn, "exposure", "click")
    backdoor = g.backdoor_adjustment(data, "exposure", "click", sorted(estimand.adjustment_set))
    weighted = g.ipw(data, "exposure", "click", ["intent"])
    naive = g.naive_difference(data, "exposure", "click")
    assert abs(bn_ate - TRUE_ATE) < 0.01
    assert abs(backdoor.value - TRUE_ATE) < 0.01
    assert abs(weighted.value - TRUE_ATE) < 0.01
    assert abs(naive.value - TRUE_ATE) > 0.1
    # the network route and the plug-in backdoor formula are the same estimator under MLE
    assert bn_ate == pytest.approx(backdoor.value, abs=1e-9)


def test_bayes_fit_and_cate(data):
    spec = g.with_proxy("intent_confounding", "intent", "intent", data=data)
    bn = g.fit(spec, data, estimator="bayes")
    for z in range(3):
        assert g.cate(bn, "exposure", "click", {"intent": z}) == pytest.approx(
            P_Y1_XZ[1, z] - P_Y1_XZ[0, z], abs=0.03)
    means = g.expected_outcomes(bn, "exposure", "click")
    assert set(means) == {0, 1}


def test_plugin_estimators_by_hand():
    df = pd.DataFrame({"z": [0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
                       "x": [0, 0, 1, 1, 0, 1, 1, 1, 1, 0],
                       "y": [0, 1, 1, 1, 0, 0, 1, 1, 1, 1]})
    # E[y|x=1,z=0]=1, E[y|x=0,z=0]=.5, E[y|x=1,z=1]=.75, E[y|x=0,z=1]=.5; P(z)=(.4,.6)
    est = g.backdoor_adjustment(df, "x", "y", ["z"])
    assert est.value == pytest.approx(0.4 * 0.5 + 0.6 * 0.25)
    # IPW (Hajek): within each stratum it reproduces the stratified means exactly
    assert g.ipw(df, "x", "y", ["z"]).value == pytest.approx(est.value)
    ht = g.ipw(df, "x", "y", ["z"], normalize=False)
    # Horvitz-Thompson: e(1|z0)=.5, e(1|z1)=4/6; sum over treated y/e / n
    treated = (1 / 0.5 + 1 / 0.5 + 0 + 3 / (4 / 6)) / 10
    control = (0 / 0.5 + 1 / 0.5 + 0 / (2 / 6) + 1 / (2 / 6)) / 10
    assert ht.value == pytest.approx(treated - control)
    with pytest.raises(g.PositivityError, match=r"stratum \{'z': 2\}"):
        g.backdoor_adjustment(pd.concat([df, pd.DataFrame({"z": [2], "x": [1], "y": [1]})]),
                              "x", "y", ["z"])


def test_refuters_on_a_sound_estimate(data):
    est = g.backdoor_adjustment(data.iloc[:20_000], "exposure", "click", ["intent"])
    d = data.iloc[:20_000]
    placebo = g.placebo_treatment(d, est, n_simulations=5)
    assert placebo.passed and abs(placebo.new_estimate) < 0.02
    assert placebo.threshold == pytest.approx(max(0.01, 0.1 * abs(est.value)), abs=0.01)
    rcc = g.random_common_cause(d, est, n_simulations=3)
    assert rcc.passed and abs(rcc.new_estimate - est.value) < 0.01
    sub = g.data_subset(d, est, n_simulations=4)
    assert sub.passed and len(sub.simulations) == 4
    # a threshold tighter than the noise makes the check fail, and says so
    strict = g.placebo_treatment(d, est, n_simulations=3, threshold=1e-6)
    assert not strict.passed and strict.threshold == 1e-6 and "FAIL" in str(strict)


def test_random_common_cause_needs_an_adjusted_estimate(data):
    est = g.naive_difference(data.iloc[:5000], "exposure", "click")
    assert abs(est.value - TRUE_ATE) > 0.1
    with pytest.raises(ValueError, match="adjusted estimate"):
        g.random_common_cause(data.iloc[:5000], est)
    names = [r.name for r in g.refute_all(data.iloc[:5000], est)]
    assert names == ["placebo_treatment", "data_subset"]


def _mediation_network(confounded: bool):
    """C -> X, C -> M, C -> Y, X -> M, X -> Y, M -> Y; with ``confounded`` also a
    treatment-induced confounder W: X -> W, W -> M, W -> Y."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    rng = np.random.default_rng(7)
    edges = [("C", "X"), ("C", "M"), ("C", "Y"), ("X", "M"), ("X", "Y"), ("M", "Y")]
    if confounded:
        edges += [("X", "W"), ("W", "M"), ("W", "Y")]
    bn = DiscreteBayesianNetwork(edges)
    card = {"C": 3, "X": 2, "M": 3, "Y": 2, "W": 2}
    for v in bn.nodes():
        parents = sorted(bn.get_parents(v))
        cols = int(np.prod([card[p] for p in parents])) if parents else 1
        bn.add_cpds(TabularCPD(v, card[v], rng.dirichlet(np.ones(card[v]), size=cols).T,
                               evidence=parents or None,
                               evidence_card=[card[p] for p in parents] or None))
    return bn


def test_mediation_formula_matches_brute_force_terms(truth):
    bn = _mediation_network(confounded=False)
    res = g.mediation(bn, "X", "M", "Y")
    p_c = truth(bn, ["C"])
    nde = nie = 0.0
    for c in range(3):
        p_m0 = truth(bn, ["M"], {"X": 0}, {"C": c})
        p_m1 = truth(bn, ["M"], {"X": 1}, {"C": c})
        for m in range(3):
            e1 = truth(bn, ["Y"], {"X": 1, "M": m}, {"C": c})[1]
            e0 = truth(bn, ["Y"], {"X": 0, "M": m}, {"C": c})[1]
            nde += p_c[c] * (e1 - e0) * p_m0[m]
            nie += p_c[c] * e1 * (p_m1[m] - p_m0[m])
    total = truth(bn, ["Y"], {"X": 1})[1] - truth(bn, ["Y"], {"X": 0})[1]
    assert res["natural_direct"] == pytest.approx(nde, abs=1e-12)
    assert res["natural_indirect"] == pytest.approx(nie, abs=1e-12)
    assert res["total"] == pytest.approx(total, abs=1e-12)
    assert res["total"] == pytest.approx(res["natural_direct"] + res["natural_indirect"],
                                         abs=1e-12)


def test_mediation_identity_failure_is_raised():
    bn = _mediation_network(confounded=True)
    with pytest.raises(g.MediationIdentityError, match="confounded given covariates"):
        g.mediation(bn, "X", "M", "Y")


def test_mediation_on_the_shipped_graph_by_hand():
    from pgmpy.factors.discrete import TabularCPD

    bn, _ = g.load_graph("mediation").to_pgmpy()
    sn = {"exposure": [0, 1], "click": [0, 1], "purchase": [0, 1]}
    bn.add_cpds(
        TabularCPD("exposure", 2, [[0.6], [0.4]], state_names=sn),
        TabularCPD("click", 2, [[0.9, 0.6], [0.1, 0.4]], evidence=["exposure"],
                   evidence_card=[2], state_names=sn),
        TabularCPD("purchase", 2, [[0.99, 0.7, 0.95, 0.5], [0.01, 0.3, 0.05, 0.5]],
                   evidence=["exposure", "click"], evidence_card=[2, 2], state_names=sn))
    res = g.mediation(bn, "exposure", "click", "purchase")
    nde = (0.05 - 0.01) * 0.9 + (0.5 - 0.3) * 0.1
    nie = 0.05 * (0.6 - 0.9) + 0.5 * (0.4 - 0.1)
    assert res["natural_direct"] == pytest.approx(nde)
    assert res["natural_indirect"] == pytest.approx(nie)
    assert res["total"] == pytest.approx(nde + nie)
    assert g.ate(bn, "exposure", "purchase") == pytest.approx(nde + nie)


def test_mediation_averages_over_a_latent_confounder_of_the_mediator():
    """browse_purchase_rating: latent intent confounds purchase -> rating; the fitted network
    carries intent's CPD, so the formula conditions on it and the identity holds."""
    from pgmpy.factors.discrete import TabularCPD

    spec = g.load_graph("browse_purchase_rating")
    bn, _ = spec.to_pgmpy()
    rng = np.random.default_rng(3)
    for node in spec.nodes:
        parents = spec.parents(node.name)
        cols = int(np.prod([spec[p].cardinality for p in parents])) if parents else 1
        bn.add_cpds(TabularCPD(
            node.name, node.cardinality,
            rng.dirichlet(np.ones(node.cardinality), size=cols).T,
            evidence=parents or None,
            evidence_card=[spec[p].cardinality for p in parents] or None,
            state_names={v: list(spec[v].states) for v in [node.name, *parents]}))
    res = g.mediation(bn, "browse", "purchase", "rating")
    assert res["total"] == pytest.approx(res["natural_direct"] + res["natural_indirect"],
                                         abs=1e-12)
    assert res["natural_direct"] == pytest.approx(0.0, abs=1e-12)  # no browse -> rating arrow
    with pytest.raises(g.MediationIdentityError):
        g.mediation(bn, "browse", "purchase", "rating", covariates=[])
