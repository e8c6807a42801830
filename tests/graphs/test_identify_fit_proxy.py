"""Identification, fitting (MLE / Bayes / EM), the intent-proxy workflow, structure checks and
drawing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalrec import graphs as g


def _spec(edges, latents=(), treatment="x", outcome="y", name="t", nodes=()):
    names = sorted({v for e in edges for v in e} | set(nodes))
    return g.load_graph({
        "name": name, "treatment": treatment, "outcome": outcome,
        "nodes": [{"name": v, "states": [0, 1], "latent": v in latents,
                   "role": ("treatment" if v == treatment else "outcome" if v == outcome
                            else "confounder")} for v in names],
        "edges": [list(e) for e in edges]})


# ---------------------------------------------------------------- identification
def test_backdoor_set_with_observed_confounders():
    spec = _spec([("z", "x"), ("z", "y"), ("x", "y"), ("w", "z"), ("x", "m"), ("m", "y")])
    est = g.identify(spec)
    assert est.kind == "backdoor" and est.adjustment_set == {"z"}
    assert "sum_{z} P(y | x, z) P(z)" in est.formula


def test_frontdoor_when_the_confounder_is_latent():
    spec = _spec([("u", "x"), ("u", "y"), ("x", "m"), ("m", "y")], latents={"u"})
    est = g.identify(spec)
    assert est.kind == "frontdoor" and est.frontdoor_set == {"m"}
    with pytest.raises(g.NotIdentifiableError):
        g.identify(spec, method="backdoor")


def test_not_identifiable_names_the_open_backdoor_path():
    with pytest.raises(g.NotIdentifiableError,
                       match=r"intent_confounding\.yaml.*backdoor path exposure <- intent -> "
                             r"click stays open") as err:
        g.identify("intent_confounding")
    assert err.value.path == ["exposure", "<-", "intent", "->", "click"]
    with pytest.raises(g.NotIdentifiableError, match="exposure <- intent -> click"):
        g.identify("popularity_bias")
    # a longer path through an observed collider-free chain of latents
    spec = _spec([("u1", "x"), ("u1", "u2"), ("u2", "y"), ("x", "y")], latents={"u1", "u2"})
    with pytest.raises(g.NotIdentifiableError, match="x <- u1 -> u2 -> y"):
        g.identify(spec)


def test_identification_of_the_shipped_graphs_with_observed_intent():
    assert g.identify("mediation").adjustment_set == frozenset()
    conf = g.identify("conformity")
    assert conf.kind == "backdoor" and "interest" in conf.adjustment_set
    pb = g.with_proxy("popularity_bias", "intent", "intent_cluster", states=[0, 1, 2, 3])
    assert g.identify(pb).adjustment_set == {"popularity", "intent_cluster"}


def test_adjustment_sets_block_every_backdoor_path(make_network):
    """On random DAGs, whenever a backdoor set is returned it d-separates treatment and
    outcome once the treatment's outgoing arrows are cut (the backdoor criterion)."""
    from pgmpy.base import DAG

    checked = 0
    for seed in range(15):
        bn = make_network(seed)
        nodes = list(bn.nodes())
        x, y = nodes[0], nodes[-1]
        spec = _spec(list(bn.edges()), treatment=x, outcome=y, name=f"r{seed}", nodes=nodes)
        try:
            est = g.identify(spec)
        except g.NotIdentifiableError:
            continue
        if est.kind != "backdoor":
            continue
        cut = DAG([e for e in bn.edges() if e[0] != x])
        cut.add_nodes_from(nodes)
        assert not cut.is_dconnected(x, y, observed=list(est.adjustment_set))
        checked += 1
    assert checked >= 10


# ---------------------------------------------------------------- fitting
def _confounded_data(n, seed, intent_noise=0.0, n_clusters=None):
    rng = np.random.default_rng(seed)
    z = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    x = (rng.random(n) < np.array([0.1, 0.5, 0.9])[z]).astype(int)
    y = (rng.random(n) < np.array([[0.05, 0.2, 0.4], [0.1, 0.3, 0.6]])[x, z]).astype(int)
    cluster = np.array([2, 0, 1])[z]  # a clustering recovers intent up to relabelling
    if n_clusters:  # a finer clustering: each intent split into sub-clusters
        cluster = cluster * 2 + rng.integers(0, 2, size=n)
    noisy = rng.random(n) < intent_noise
    cluster = np.where(noisy, rng.integers(0, cluster.max() + 1, size=n), cluster)
    return pd.DataFrame({"intent": z, "exposure": x, "click": y, "intent_cluster": cluster})


TRUE_ATE = 0.5 * 0.05 + 0.3 * 0.1 + 0.2 * 0.2


def test_fit_keeps_state_names_and_declared_unseen_states():
    spec = g.load_graph({"name": "s", "treatment": "x", "outcome": "y",
                         "nodes": [{"name": "x", "states": ["no", "yes"]},
                                   {"name": "y", "states": ["lo", "mid", "hi"]}],
                         "edges": [["x", "y"]]})
    df = pd.DataFrame({"x": ["no", "yes", "yes", "no"], "y": ["lo", "hi", "hi", "lo"]})
    bn = g.fit(spec, df)
    cpd = bn.get_cpds("y")
    assert cpd.state_names["y"] == ["lo", "mid", "hi"] and cpd.state_names["x"] == ["no", "yes"]
    assert cpd.get_value(y="hi", x="yes") == pytest.approx(1.0)
    assert g.ate(bn, "x", "y", outcome_value="hi") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-numeric states"):
        g.ate(bn, "x", "y")
    bad = df.assign(y=["lo", "HIGH", "hi", "lo"])
    with pytest.raises(g.GraphValidationError, match=r"node 'y': data values 'HIGH' .*rows \[1\]"):
        g.fit(spec, bad)


def test_fit_refuses_hidden_latents_without_em_and_em_fits_them():
    df = _confounded_data(4000, seed=1).drop(columns=["intent", "intent_cluster"])
    with pytest.raises(g.GraphValidationError, match="latent node.*'intent'.*estimator='em'"):
        g.fit("intent_confounding", df)
    with pytest.raises(ValueError, match="estimator must be one of"):
        g.fit("intent_confounding", df, estimator="magic")
    bn = g.fit("intent_confounding", df, estimator="em", max_iter=30)
    assert bn.latents == {"intent"}
    assert bn.get_cpds("intent").state_names["intent"] == [0, 1, 2]
    # the fitted latent-variable model reproduces the observed joint of (exposure, click)
    implied = g.do_query(bn, ["exposure", "click"]).values
    empirical = pd.crosstab(df["exposure"], df["click"], normalize=True).to_numpy()
    np.testing.assert_allclose(implied, empirical, atol=0.02)


# ---------------------------------------------------------------- intent proxy
def test_proxy_workflow_recovers_the_ate_from_relabelled_clusters():
    df = _confounded_data(50_000, seed=2)
    res = g.estimate_with_proxy("intent_confounding", df, "intent_cluster")
    assert res.estimand.adjustment_set == {"intent_cluster"}
    assert res.spec["intent_cluster"].states == (0, 1, 2) and not res.spec.latents
    assert abs(res.bn_ate - TRUE_ATE) < 0.01
    assert abs(res.backdoor.value - TRUE_ATE) < 0.01
    assert g.proxy_agreement(df["intent"], df["intent_cluster"]) == pytest.approx(1.0)
    # a finer clustering (6 clusters) is still a valid adjustment set
    fine = _confounded_data(50_000, seed=3, n_clusters=6)
    res6 = g.estimate_with_proxy("intent_confounding", fine, "intent_cluster")
    assert res6.spec["intent_cluster"].cardinality == 6
    assert abs(res6.backdoor.value - TRUE_ATE) < 0.01


def test_noisier_proxies_leave_more_bias():
    naive = None
    biases, nmis = [], []
    for noise in (0.0, 0.3, 0.7):
        df = _confounded_data(50_000, seed=4, intent_noise=noise)
        if naive is None:
            naive = g.naive_difference(df, "exposure", "click").value
        res = g.estimate_with_proxy("intent_confounding", df, "intent_cluster")
        biases.append(abs(res.backdoor.value - TRUE_ATE))
        nmis.append(g.proxy_agreement(df["intent"], df["intent_cluster"]))
    assert biases[0] < 0.01 < biases[1] < biases[2] < abs(naive - TRUE_ATE)
    assert nmis[0] > nmis[1] > nmis[2]


# ---------------------------------------------------------------- structure
def _vstructure_data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    c = (rng.random(n) < 0.1 + 0.4 * a + 0.4 * b).astype(int)
    d = (rng.random(n) < np.where(c == 1, 0.8, 0.2)).astype(int)
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": d})


def test_learn_graph_recovers_a_v_structure_and_reports_shd():
    df = _vstructure_data()
    true = _spec([("a", "c"), ("b", "c"), ("c", "d")], treatment="a", outcome="d")
    learned = g.learn_graph(df, "pc", expert=true)
    assert set(learned.spec.edges) == {("a", "c"), ("b", "c"), ("c", "d")}
    assert learned.shd == 0
    spec, shd = learned  # unpacks as (spec, shd)
    assert spec.treatment == "a" and shd == 0
    wrong = _spec([("a", "b"), ("b", "c"), ("d", "c")], treatment="a", outcome="d")
    vs_wrong = g.learn_graph(df, "pc", expert=wrong)
    # by hand: a-b missing, a->c extra, d->c reversed
    assert vs_wrong.missing == (("a", "b"),) and vs_wrong.extra == (("a", "c"),)
    assert vs_wrong.reversed == (("c", "d"),) and vs_wrong.shd == 3


def test_learn_graph_hill_climbing_and_latent_nodes_are_skipped():
    df = _vstructure_data(seed=1).rename(columns={"a": "x", "d": "y"})
    expert = _spec([("x", "c"), ("b", "c"), ("c", "y"), ("u", "x"), ("u", "y")],
                   latents={"u"})
    res = g.learn_graph(df, "hc", expert=expert)
    assert "u" not in res.spec
    assert res.shd == len(res.missing) + len(res.extra) + len(res.reversed)
    skeleton = {frozenset(e) for e in res.spec.edges}
    assert {frozenset(("b", "c")), frozenset(("c", "y"))} <= skeleton
    with pytest.raises(ValueError, match="method must be"):
        g.learn_graph(df, "magic")


# ---------------------------------------------------------------- drawing
def test_draw_colours_roles_and_marks_latents():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from causalrec.graphs.drawing import ROLE_COLOURS

    ax = g.draw("popularity_bias")
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["click", "exposure", "intent", "popularity"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"treatment", "outcome", "confounder", "latent"} <= set(legend)
    colours = {tuple(np.round(c, 3)) for coll in ax.collections
               for c in np.atleast_2d(coll.get_facecolor())}
    treat = tuple(np.round(matplotlib.colors.to_rgba(ROLE_COLOURS["treatment"]), 3))
    assert treat in colours
    plt.close("all")


def test_learn_graph_without_an_expert_uses_every_column():
    df = _vstructure_data(seed=2)
    res = g.learn_graph(df, "pc")
    assert res.shd is None and set(res.spec.node_names) == {"a", "b", "c", "d"}
    assert res.spec.treatment is None
    assert {frozenset(e) for e in res.spec.edges} == {frozenset(("a", "c")),
                                                      frozenset(("b", "c")),
                                                      frozenset(("c", "d"))}
