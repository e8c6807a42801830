"""The recommendation simulator: consistency of its ground truth with the data it generates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalrec.graphs import GraphValidationError
from causalrec.sim import simulate
from causalrec.sim.graph import read_graph

SMALL = dict(n_users=1500, n_items=300, per_user=20, seed=3)


@pytest.fixture(scope="module")
def pop():
    return simulate("popularity_bias", **SMALL)


@pytest.fixture(scope="module")
def med():
    return simulate("mediation", **SMALL)


def _diff_in_means(y, t):
    y1, y0 = y[t == 1], y[t == 0]
    est = y1.mean() - y0.mean()
    se = np.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0))
    return est, se


def test_determinism_and_seed_changes_everything():
    a = simulate("popularity_bias", n_users=300, n_items=80, per_user=8, seed=11)
    b = simulate("popularity_bias", n_users=300, n_items=80, per_user=8, seed=11)
    c = simulate("popularity_bias", n_users=300, n_items=80, per_user=8, seed=12)
    pd.testing.assert_frame_equal(a.data.interactions, b.data.interactions)
    pd.testing.assert_frame_equal(a.randomized.interactions, b.randomized.interactions)
    assert a.data.user_text == b.data.user_text and a.data.item_text == b.data.item_text
    assert a.truth.ate == b.truth.ate and a.truth.mediation == b.truth.mediation
    assert a.data.fingerprint() != c.data.fingerprint()
    assert a.data.user_text != c.data.user_text


def test_empirical_ate_on_fresh_randomized_sample_matches_truth(pop):
    # fresh rows drawn like the logs but with exposure randomized (p = 0.5)
    frame, truth = pop.sample(policy="random", candidates="logging", seed=5)
    est, se = _diff_in_means(frame["click"].to_numpy(float), frame["exposure"].to_numpy())
    assert abs(est - pop.truth.ate) < 3 * se, (est, se, pop.truth.ate)
    assert abs(est - truth["ate"]) < 3 * se
    assert np.allclose(frame["propensity"], 0.5)
    # the randomized test set shipped with the data: its own truth
    r = pop.randomized.interactions
    est, se = _diff_in_means(r["label"].to_numpy(), r["exposure"].to_numpy())
    assert abs(est - pop.truth.randomized["ate"]) < 3 * se
    assert (r["policy"] == "random").all() and np.allclose(r["propensity"], 0.5)
    # randomized rows are for held-out sample of users, uniformly random items
    assert set(r["user"].unique()) == set(pop.truth.randomized["users"].tolist())
    assert len(pop.truth.randomized["users"]) == round(0.1 * SMALL["n_users"])


def test_exposure_rate_is_calibrated_per_decile_of_true_propensity():
    res = simulate("popularity_bias", n_users=8000, n_items=400, per_user=50, seed=1,
                   randomized_users=0.0)
    df = res.data.interactions
    assert np.allclose(df["propensity"], res.truth.propensity)
    dec = pd.qcut(df["propensity"].rank(method="first"), 10, labels=False)
    g = df.groupby(dec).agg(rate=("exposure", "mean"), p=("propensity", "mean"))
    assert len(g) == 10
    assert (g["rate"] - g["p"]).abs().max() < 0.01, g
    # the policy really is missing-not-at-random: propensities spread widely
    assert g["p"].iloc[-1] - g["p"].iloc[0] > 0.3


def test_naive_bias_grows_with_confounding_and_vanishes_at_zero():
    biases, ses = [], []
    for c in (0.0, 1.0, 2.0):
        res = simulate("popularity_bias", n_users=4000, n_items=300, per_user=25, seed=2,
                       confounding=c, randomized_users=0.0)
        df = res.data.interactions
        est, se = _diff_in_means(df["click"].to_numpy(float), df["exposure"].to_numpy())
        assert est == pytest.approx(res.truth.naive)
        biases.append(est - res.truth.ate)
        ses.append(se)
    assert abs(biases[0]) < 3 * ses[0], biases
    assert biases[1] > 5 * ses[1] and biases[2] > biases[1] + 3 * ses[2], biases


def test_observed_outcomes_are_the_potential_outcomes_of_the_arm_taken(pop, med):
    for res in (pop, med):
        df = res.data.interactions
        t = df["exposure"].to_numpy() == 1
        y = df["label"].to_numpy()
        assert np.array_equal(y[t], res.truth.y1[t]) and np.array_equal(y[~t], res.truth.y0[~t])
        # mu are the expectations of y (sampling error only)
        for mu, yy in ((res.truth.mu0, res.truth.y0), (res.truth.mu1, res.truth.y1)):
            assert abs(mu.mean() - yy.mean()) < 4 * yy.std() / np.sqrt(len(yy))
        assert res.truth.ate == pytest.approx(np.mean(res.truth.mu1 - res.truth.mu0))


def test_cate_per_intent_and_heterogeneity(pop):
    tau = pop.truth.mu1 - pop.truth.mu0
    intent = pop.frames["logs"]["intent"]
    for s, v in pop.truth.cate_by_intent.items():
        assert v == pytest.approx(tau[intent == s].mean())
    cates = [pop.truth.cate_by_intent[s] for s in sorted(pop.truth.cate_by_intent)]
    assert cates[0] < cates[1] < cates[2]  # the effect of exposure grows with intent
    flat = simulate("popularity_bias", effect_heterogeneity=0.0, preference_effect=0.0,
                    **SMALL)
    c = list(flat.truth.cate_by_intent.values())
    assert max(c) - min(c) < 0.5 * (cates[2] - cates[0])


def test_mediation_decomposes_and_matches_brute_force(med):
    m = med.truth.mediation["purchase"]
    assert m["mediators"] == ["click"]
    assert m["total"] == pytest.approx(m["natural_direct"] + m["natural_indirect"], abs=1e-12)
    assert m["total"] == pytest.approx(med.truth.ate, abs=1e-12)
    assert m["natural_indirect"] > 0 and m["natural_direct"] > 0
    # brute force: E[Y(1, M(0))] by Monte Carlo over the structural equations
    w = med.truth.world
    model = w.model
    rng = np.random.default_rng(0)
    df = med.data.interactions
    n = len(df)
    pref = w.mixture[df["user"].to_numpy(), w.item_topic[df["item"].to_numpy()]]
    reps = 20
    acc = 0.0
    for _ in range(reps):
        base0 = {"exposure": np.zeros(n, np.int16)}
        m0 = model.draw(model.probs("click", base0, pref, n), rng.random(n))
        vals = {"exposure": np.ones(n, np.int16), "click": m0}
        y = model.draw(model.probs("purchase", vals, pref, n), rng.random(n))
        acc += y.mean()
    y10 = acc / reps
    y00 = med.truth.mu0.mean()
    assert y10 - y00 == pytest.approx(m["natural_direct"], abs=4 * np.sqrt(0.1 / (n * reps)))
    # switching the direct edge off leaves only the indirect path
    nodir = simulate("mediation", direct_effect=0.0, **SMALL).truth.mediation["purchase"]
    assert abs(nodir["natural_direct"]) < 1e-12 and nodir["natural_indirect"] > 0


def test_backdoor_adjustment_on_discrete_export_recovers_true_ate(pop):
    df = pop.to_discrete_frame()
    assert list(df.columns) == ["popularity", "intent", "exposure", "click"]
    g = read_graph("popularity_bias")
    for col in df:
        assert set(df[col].unique()) <= set(g[col].states)
    est, var = 0.0, 0.0
    for _, part in df.groupby(["popularity", "intent"]):
        w = len(part) / len(df)
        y1 = part.loc[part.exposure == 1, "click"]
        y0 = part.loc[part.exposure == 0, "click"]
        est += w * (y1.mean() - y0.mean())
        var += w**2 * (y1.var() / len(y1) + y0.var() / len(y0))
    assert abs(est - pop.truth.ate) < 3 * np.sqrt(var)
    naive = df.loc[df.exposure == 1, "click"].mean() - df.loc[df.exposure == 0, "click"].mean()
    assert abs(naive - pop.truth.ate) > 5 * np.sqrt(var)
    assert "intent" not in pop.to_discrete_frame(include_latent=False)
    assert len(pop.to_discrete_frame("all")) == len(pop.data) + len(pop.randomized)


def test_policy_value_is_the_true_expected_reward_of_top_k():
    res = simulate("popularity_bias", n_users=60, n_items=50, per_user=10, seed=4)
    tr = res.truth
    users = np.repeat(np.arange(60), 50)
    items = np.tile(np.arange(50), 60)
    mu1 = tr.expected_outcomes(users, items, 1).reshape(60, 50)
    mu0 = tr.expected_outcomes(users, items, 0).reshape(60, 50)
    k = 5
    oracle = np.sort(mu1, axis=1)[:, -k:].mean()
    assert tr.policy_value(mu1, k) == pytest.approx(oracle)
    scores = np.random.default_rng(0).random((60, 50))
    top = np.argsort(-scores, axis=1)[:, :k]
    hand = np.take_along_axis(mu1, top, 1).mean()
    assert tr.policy_value(scores, k) == pytest.approx(hand)
    assert tr.policy_value(scores, k, uplift=True) == pytest.approx(
        np.take_along_axis(mu1 - mu0, top, 1).mean())
    assert tr.policy_value(mu1, k) > tr.policy_value(scores, k)
    # excluded items are never recommended; a subset of users
    ex = np.zeros((60, 50), bool)
    ex[:, np.argsort(-mu1.mean(0))[:10]] = True
    assert tr.policy_value(mu1, k, exclude=ex) < tr.policy_value(mu1, k)
    assert tr.policy_value(mu1[[3, 7]], 2, users=[3, 7]) == pytest.approx(
        np.sort(mu1[[3, 7]], 1)[:, -2:].mean())
    # the logged rows' mu1 agree with the oracle at the same pairs
    df = res.data.interactions
    assert np.allclose(mu1[df["user"], df["item"]], tr.mu1)
    with pytest.raises(ValueError, match="scores must be"):
        tr.policy_value(mu1[:, :10], 2)


def test_graph_edges_are_respected():
    with pytest.raises(GraphValidationError, match=r"intent_bias=1.0 needs the edge \[intent, exposure\]"):
        simulate("mediation", intent_bias=1.0, n_users=50, n_items=20, per_user=3)
    with pytest.raises(GraphValidationError, match=r"no such edge"):
        simulate("mediation", edge_weights={"purchase->click": 1.0}, n_users=50, n_items=20,
                 per_user=3)
    with pytest.raises(GraphValidationError, match="effect_heterogeneity"):
        simulate("mediation", effect_heterogeneity=2.0, n_users=50, n_items=20, per_user=3)
    # a zero weight on a missing edge is simply the graph's own claim
    simulate("mediation", intent_bias=0.0, n_users=50, n_items=20, per_user=3)
    spec = {"name": "weird", "treatment": "exposure", "outcome": "click",
            "nodes": [{"name": "mood", "states": [0, 1]}, {"name": "exposure", "states": [0, 1]},
                      {"name": "click", "states": [0, 1]}],
            "edges": [["mood", "exposure"], ["exposure", "click"]]}
    with pytest.raises(GraphValidationError, match="no generator for root node 'mood'"):
        simulate(spec)
    cyc = dict(spec, nodes=spec["nodes"][1:], edges=[["exposure", "click"], ["click", "exposure"]])
    with pytest.raises(GraphValidationError, match="cycle"):
        simulate(cyc)
    three = dict(spec, nodes=[{"name": "exposure", "states": [0, 1, 2]},
                              {"name": "click", "states": [0, 1]}], edges=[["exposure", "click"]])
    with pytest.raises(GraphValidationError, match="must be binary"):
        simulate(three)
    with pytest.raises(TypeError, match="unknown simulator options"):
        simulate("mediation", n_user=5)


def test_edges_actually_drive_the_data():
    # with the popularity -> exposure weight at 0, exposure no longer depends on popularity
    res = simulate("popularity_bias", popularity_bias=0.0, **SMALL)
    df = res.data.interactions
    intent = res.frames["logs"]["intent"]
    spread = df.groupby(intent)["propensity"].agg(lambda p: p.max() - p.min())
    assert spread.max() < 1e-12
    # popularity levels are drawn independently of the user, as the graph's roots are
    by_pop = df.groupby("popularity")["propensity"].mean()
    assert by_pop.max() - by_pop.min() < 0.01
    res2 = simulate("popularity_bias", **SMALL)
    by_pop2 = res2.data.interactions.groupby("popularity")["propensity"].mean()
    assert by_pop2.is_monotonic_increasing and by_pop2.iloc[-1] - by_pop2.iloc[0] > 0.1


@pytest.mark.parametrize("graph", ["intent_confounding", "popularity_bias", "mediation",
                                   "browse_purchase_rating", "conformity"])
def test_every_shipped_graph_simulates(graph):
    res = simulate(graph, n_users=200, n_items=60, per_user=6, seed=0)
    g = res.graph
    df = res.to_discrete_frame()
    assert list(df.columns) == g.order
    inter = res.data.interactions
    for v in g.node_names:
        assert (v in inter.columns) != g[v].latent
    assert set(res.truth.mediation) >= {g.outcome}
    med = res.truth.mediation[g.outcome]
    assert med["total"] == pytest.approx(med["natural_direct"] + med["natural_indirect"])
    assert len(res.data.user_text) == 200 and len(res.data.item_text) == 60


def test_text_views_carry_intent_and_noise_hides_it():
    """A cheap proxy of the MiniLM check in scripts/bench/simulate.py: bag-of-words + k-means
    recovers the intent at the default noise, and stops recovering it as noise rises."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import adjusted_rand_score

    aris = []
    for noise in (0.2, 0.6, 1.0):
        res = simulate("intent_confounding", n_users=600, n_items=40, per_user=2, n_topics=4,
                       text_noise=noise, randomized_users=0.0, seed=0)
        x = TfidfVectorizer().fit_transform(res.data.user_text)
        lab = KMeans(4, n_init=5, random_state=0).fit_predict(x)
        aris.append(adjusted_rand_score(res.truth.user_topic, lab))
    assert aris[0] >= 0.6 and aris[0] > aris[1] > aris[2] and aris[2] < 0.05, aris


def test_graph_objects_and_mechanisms_section():
    from causalrec.graphs import load_graph

    spec = load_graph("mediation")
    a = simulate(spec, n_users=100, n_items=30, per_user=5, seed=0)
    b = simulate("mediation", n_users=100, n_items=30, per_user=5, seed=0)
    pd.testing.assert_frame_equal(a.data.interactions, b.data.interactions)
    raw = read_graph("mediation").to_dict()
    raw["mechanisms"] = {"rates": {"exposure": 0.6}, "direct_effect": 0.0}
    res = simulate(raw, n_users=300, n_items=30, per_user=10, seed=0)
    assert res.data.interactions["propensity"].mean() == pytest.approx(0.6)
    assert abs(res.truth.mediation["purchase"]["natural_direct"]) < 1e-12
    # keyword options override the graph's mechanisms
    res = simulate(raw, n_users=300, n_items=30, per_user=10, seed=0, rates={"exposure": 0.2})
    assert res.data.interactions["propensity"].mean() == pytest.approx(0.2)
    raw["mechanisms"] = {"confounding_strength": 1.0}
    with pytest.raises(GraphValidationError, match="unknown keys in mechanisms"):
        simulate(raw)
