"""The ID algorithm against brute-force truncated factorisation over the full joint
(latent variables included), and on textbook identifiable and non-identifiable graphs."""

from __future__ import annotations

import numpy as np
import pytest

from causalrec.graphs.id_algorithm import ADMG, HedgeError, id_identify, id_query
from causalrec.graphs.identification import NotIdentifiableError
from causalrec.graphs.spec import GraphSpec, Node


def random_latent_model(seed: int):
    """(spec, bn): 3-6 observed nodes ``o0..`` (random DAG by index), 1-3 latent roots
    ``l0..`` each with two or three observed children, Dirichlet CPDs."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))
    obs = [f"o{i}" for i in range(n)]
    lat = [f"l{i}" for i in range(int(rng.integers(1, 4)))]
    card = {v: int(rng.choice([2, 2, 3])) for v in obs + lat}
    parents = {v: [] for v in obs + lat}
    for i, v in enumerate(obs):
        k = min(i, int(rng.integers(0, 3)))
        parents[v] = sorted(rng.choice(obs[:i], size=k, replace=False).tolist()) if k else []
    for u in lat:
        for c in rng.choice(obs, size=min(n, int(rng.integers(2, 4))), replace=False):
            parents[str(c)].append(u)
    edges = [(p, v) for v in parents for p in parents[v]]
    bn = DiscreteBayesianNetwork(edges, latents=set(lat))
    bn.add_nodes_from(obs + lat)
    for v in obs + lat:
        pc = [card[p] for p in parents[v]]
        table = rng.dirichlet(np.full(card[v], 0.8), size=int(np.prod(pc)) if pc else 1).T
        bn.add_cpds(TabularCPD(v, card[v], table, evidence=parents[v] or None,
                               evidence_card=pc or None,
                               state_names={u: list(range(card[u])) for u in [v, *parents[v]]}))
    nodes = tuple(Node(v, tuple(range(card[v])), latent=v in lat) for v in lat + obs)
    spec = GraphSpec("random", nodes, tuple(edges))
    return spec, bn, obs, card


def test_id_agrees_with_truncated_factorisation_on_random_latent_graphs(truth):
    from pgmpy.factors.discrete import DiscreteFactor

    identified = raised = 0
    for seed in range(150):
        spec, bn, obs, card = random_latent_model(seed)
        rng = np.random.default_rng(seed + 77)
        xs = [str(v) for v in rng.choice(obs, size=1 + int(rng.random() < 0.3), replace=False)]
        rest = [v for v in obs if v not in xs]
        ys = [str(v) for v in rng.choice(rest, size=min(len(rest), 1 + int(rng.random() < 0.3)),
                                         replace=False)]
        try:
            est = id_identify(spec, ys, xs)
        except HedgeError as err:
            raised += 1
            f, f_prime = err.hedge
            assert f_prime < f and f & set(xs) and not f_prime & set(xs)
            continue
        joint = DiscreteFactor(obs, [card[v] for v in obs], truth(bn, obs),
                               state_names={v: list(range(card[v])) for v in obs})
        do = {x: int(rng.integers(card[x])) for x in xs}
        expected = truth(bn, ys, do)
        got = id_query(joint, est, do)
        np.testing.assert_allclose(got.values, expected, atol=1e-9, rtol=0)
        if seed % 5 == 0:  # straight from the fitted network (latent CPDs summed out)
            np.testing.assert_allclose(id_query(bn, est, do).values, expected, atol=1e-9)
        identified += 1
    assert identified >= 50 and raised >= 5


def _g(nodes, directed, bidirected=()):
    return ADMG.build(nodes, directed, bidirected)


NON_IDENTIFIABLE = {
    # Pearl 2009, fig. 3.7 and Shpitser & Pearl 2006, fig. 1
    "bow arc": _g(["x", "y"], [("x", "y")], [("x", "y")]),
    "instrument with confounding (IV)": _g(["z", "x", "y"], [("z", "x"), ("x", "y")],
                                           [("x", "y")]),
    "confounded mediator": _g(["x", "z", "y"], [("x", "z"), ("z", "y")],
                              [("x", "z"), ("z", "y")]),
    "frontdoor with confounded mediator-outcome": _g(["x", "z", "y"], [("x", "z"), ("z", "y")],
                                                     [("x", "y"), ("z", "y")]),
    "bow with a confounded co-parent": _g(["x", "z", "y"], [("x", "y"), ("z", "y")],
                                          [("x", "z"), ("z", "y")]),
}


@pytest.mark.parametrize("name", list(NON_IDENTIFIABLE))
def test_textbook_non_identifiable_graphs_raise_naming_the_hedge(name):
    with pytest.raises(HedgeError, match="not identifiable: hedge F = ") as info:
        id_identify(NON_IDENTIFIABLE[name], "y", "x")
    assert isinstance(info.value, NotIdentifiableError)
    f, f_prime = info.value.hedge
    assert "y" in f_prime and "x" in f and "x" not in f_prime


def test_bow_arc_from_a_spec_with_a_latent_node():
    spec = GraphSpec("bow", (Node("u", (0, 1), latent=True), Node("x", (0, 1)),
                             Node("y", (0, 1))), (("u", "x"), ("u", "y"), ("x", "y")))
    with pytest.raises(HedgeError, match=r"hedge F = \{x, y\}, F' = \{y\}"):
        id_identify(spec, "y", "x")


def test_textbook_formulas():
    fd = _g(["x", "z", "y"], [("x", "z"), ("z", "y")], [("x", "y")])
    assert id_identify(fd, "y", "x").text == "sum_{z} P(z | x) [sum_{x'} P(x') P(y | x', z)]"
    assert id_identify(fd, "y", "x").latex == (
        "\\sum_{z} P(z \\mid x) \\sum_{x'} P(x') P(y \\mid x', z)")
    napkin = _g(["w", "z", "x", "y"], [("w", "z"), ("z", "x"), ("x", "y")],
                [("w", "x"), ("w", "y")])
    # Pearl's napkin: the ratio holds for every z (line 3 intervenes on z), averaged by P(z)
    assert id_identify(napkin, "y", "x").text == (
        "sum_{z} P(z) [(sum_{w} P(w) P(x | w, z) P(y | w, x, z)) / (sum_{w} P(w) P(x | w, z))]")
    bd = _g(["w", "x", "y"], [("w", "x"), ("w", "y"), ("x", "y")])
    assert id_identify(bd, "y", "x").formula == "P(y | do(x)) = sum_{w} P(w) P(y | w, x)"


def test_latent_projection():
    spec = GraphSpec("p", (Node("a", (0, 1)), Node("l1", (0, 1), latent=True),
                           Node("l2", (0, 1), latent=True), Node("b", (0, 1)),
                           Node("c", (0, 1))),
                     (("a", "l1"), ("l1", "b"), ("l2", "b"), ("l2", "l1"), ("l2", "c")))
    g = ADMG.from_spec(spec)
    assert g.directed == {("a", "b")}
    assert g.bidirected == {frozenset(("b", "c"))}


def test_bad_input():
    g = _g(["x", "y"], [("x", "y")])
    with pytest.raises(ValueError, match="outcome 'q' is not a node"):
        id_identify(g, "q", "x")
    with pytest.raises(ValueError, match="overlap"):
        id_identify(g, ["x", "y"], "x")
    spec = GraphSpec("bow", (Node("u", (0, 1), latent=True), Node("x", (0, 1)),
                             Node("y", (0, 1))), (("u", "x"), ("u", "y"), ("x", "y")))
    with pytest.raises(ValueError, match="treatment 'u' is latent"):
        id_identify(spec, "y", "u")
    with pytest.raises(ValueError, match="cycle"):
        _g(["a", "b"], [("a", "b"), ("b", "a")])


def test_identify_falls_back_to_id_where_backdoor_and_frontdoor_fail(truth):
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    from causalrec.graphs import identify

    # the napkin: latent u1 -> w, x and u2 -> w, y; w -> z -> x -> y
    edges = [("w", "z"), ("z", "x"), ("x", "y"), ("u1", "w"), ("u1", "x"), ("u2", "w"),
             ("u2", "y")]
    nodes = tuple(Node(v, (0, 1), latent=v.startswith("u")) for v in
                  ("u1", "u2", "w", "z", "x", "y"))
    spec = GraphSpec("napkin", nodes, tuple(edges), treatment="x", outcome="y")
    for method in ("backdoor", "frontdoor"):
        with pytest.raises(NotIdentifiableError):
            identify(spec, method=method)
    est = identify(spec)
    assert est.kind == "id" and est.formula.startswith("P(y | do(x)) = sum_{z} P(z)")
    rng = np.random.default_rng(0)
    bn = DiscreteBayesianNetwork(edges, latents={"u1", "u2"})
    for v in ("u1", "u2", "w", "z", "x", "y"):
        pa = sorted(p for p, c in edges if c == v)
        table = rng.dirichlet(np.ones(2), size=2 ** len(pa)).T
        bn.add_cpds(TabularCPD(v, 2, table, evidence=pa or None,
                               evidence_card=[2] * len(pa) or None))
    got = id_query(bn, est.expression, {"x": 1})
    np.testing.assert_allclose(got.values, truth(bn, ["y"], {"x": 1}), atol=1e-9)
