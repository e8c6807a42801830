"""Counterfactuals and probabilities of causation against brute-force enumeration.

The oracle enumerates every joint state of the exogenous variables of a random structural
model, evaluates each world's equations and sums the probabilities of the states that agree
with the evidence: it shares no code with the twin-network elimination it checks.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from causalrec.graphs.causation import probabilities_of_causation, tian_pearl_bounds
from causalrec.graphs.counterfactual import DiscreteSCM, counterfactual, multi_world_query


def random_scm(seed: int, binary: bool = False, monotone: bool = False) -> DiscreteSCM:
    """3-5 nodes ``v0..`` in topological order, private noise per node, and 0-2 hidden common
    causes shared by two nodes; random (or monotone non-decreasing) response tables."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    names = [f"v{i}" for i in range(n)]
    card = {v: 2 if binary else int(rng.choice([2, 3])) for v in names}
    parents = {}
    for i, v in enumerate(names):
        k = min(i, int(rng.integers(0, 3)))
        parents[v] = sorted(rng.choice(names[:i], size=k, replace=False).tolist()) if k else []
    if monotone and "v0" not in parents[names[-1]]:
        parents[names[-1]] = sorted([*parents[names[-1]], "v0"])
    exo = {f"u_{v}": rng.dirichlet(np.ones(int(rng.integers(2, 4)))) for v in names}
    exo_par = {v: [f"u_{v}"] for v in names}
    for j in range(int(rng.integers(0, 3))):
        a, b = rng.choice(names, size=2, replace=False)
        exo[f"h{j}"] = rng.dirichlet(np.ones(int(rng.integers(2, 4))))
        exo_par[a].append(f"h{j}")
        exo_par[b].append(f"h{j}")
    fns = {}
    for v in names:
        shape = [card[p] for p in parents[v]] + [len(exo[u]) for u in exo_par[v]]
        if monotone:  # threshold of a non-negative weighted sum of binary parents, per u
            w = rng.uniform(0.1, 1.0, size=len(parents[v]))
            grid = np.indices(shape).reshape(len(shape), -1).T
            theta = rng.uniform(-0.2, w.sum() + 0.2, size=[len(exo[u]) for u in exo_par[v]])
            vals = [(grid_row[:len(w)] @ w >= theta[tuple(grid_row[len(w):])])
                    for grid_row in grid]
            fns[v] = np.asarray(vals, dtype=int).reshape(shape)
        else:
            fns[v] = rng.integers(0, card[v], size=shape)
    states = {v: list(range(card[v])) for v in names}
    return DiscreteSCM(states, parents, exo, exo_par, fns)


def enumerate_worlds(scm: DiscreteSCM, worlds, query, evidence) -> np.ndarray:
    """P(query | evidence) by summing over every exogenous state."""
    us = list(scm.exogenous)
    out = np.zeros([scm.card[v] for _, v in query])
    for combo in itertools.product(*(range(len(scm.exogenous[u])) for u in us)):
        p = float(np.prod([scm.exogenous[u][k] for u, k in zip(us, combo)]))
        if p == 0:
            continue
        uval = dict(zip(us, combo))
        values = []
        for w in worlds:
            val: dict = {}
            for v in scm.order:
                if v in w:
                    val[v] = scm.states[v].index(w[v])
                else:
                    idx = tuple(val[q] for q in scm.parents[v]) + tuple(
                        uval[u] for u in scm.exo_parents[v])
                    val[v] = int(scm.functions[v][idx])
            values.append(val)
        if all(values[w][v] == scm.states[v].index(s) for w, v, s in evidence):
            out[tuple(values[w][v] for w, v in query)] += p
    return out / out.sum() if out.sum() > 0 else out


@pytest.mark.parametrize("block", range(5))
def test_twin_network_equals_enumeration(block):
    checked = 0
    for seed in range(block * 25, block * 25 + 25):
        rng = np.random.default_rng(1000 + seed)
        scm = random_scm(seed)
        names = list(scm.states)
        worlds = [{}]
        for _ in range(int(rng.integers(1, 3))):
            v = str(rng.choice(names))
            worlds.append({v: int(rng.integers(scm.card[v]))})
        q_world = int(rng.integers(1, len(worlds)))
        query = [(q_world, str(rng.choice(names)))]
        if rng.random() < 0.5:
            query.append((0, str(rng.choice(names))))
        ev_vars = rng.choice(names, size=int(rng.integers(0, 3)), replace=False)
        evidence = [(0, str(v), int(rng.integers(scm.card[str(v)]))) for v in ev_vars]
        expected = enumerate_worlds(scm, worlds, query, evidence)
        if expected.sum() == 0:
            with pytest.raises(ValueError, match="probability zero"):
                multi_world_query(scm, worlds, query, evidence)
            continue
        got = multi_world_query(scm, worlds, query, evidence)
        np.testing.assert_allclose(got, expected, atol=1e-9, rtol=0)
        checked += 1
    assert checked >= 15


def _truth(scm, x, y, ti=1, ci=0, yi=1):
    """PN, PS, PNS of a binary-treatment model by enumeration."""
    worlds = [{}, {x: ti}, {x: ci}]
    j = enumerate_worlds(scm, worlds, [(0, x), (0, y), (1, y), (2, y)], [])
    ny = [k for k in range(scm.card[y]) if k != yi]
    pns = j[:, :, yi][:, :, ny].sum()
    pn = j[ti, yi][:, ny].sum() / j[ti, yi].sum()
    ps = j[ci][ny][:, yi].sum() / j[ci][ny].sum()
    return pn, ps, pns


def _inside(val, bounds, tol=1e-9):
    return bounds[0] - tol <= val <= bounds[1] + tol


def test_probabilities_of_causation_twin_and_bounds_on_random_models():
    n = 0
    for seed in range(150):
        scm = random_scm(5000 + seed, binary=True)
        x, y = "v0", list(scm.states)[-1]
        joint = enumerate_worlds(scm, [{}], [(0, x), (0, y)], [])
        if joint[1, 1] < 1e-6 or joint[0, 0] < 1e-6:
            continue
        pn, ps, pns = _truth(scm, x, y)
        res = probabilities_of_causation(scm, x, y, method="twin")
        assert res.pn == pytest.approx(pn, abs=1e-9)
        assert res.ps == pytest.approx(ps, abs=1e-9)
        assert res.pns == pytest.approx(pns, abs=1e-9)
        # the bounds, from observational + interventional quantities only, hold the truth
        assert _inside(pn, res.pn_bounds) and _inside(ps, res.ps_bounds)
        assert _inside(pns, res.pns_bounds)
        n += 1
    assert n >= 100


def test_monotonicity_formulas_equal_enumeration_from_the_induced_network():
    n = 0
    for seed in range(160):
        scm = random_scm(9000 + seed, binary=True, monotone=True)
        x, y = "v0", list(scm.states)[-1]
        bn = scm.to_network()  # hidden common causes become latent nodes with CPDs
        joint = enumerate_worlds(scm, [{}], [(0, x), (0, y)], [])
        if joint[1, 1] < 1e-6 or joint[0, 0] < 1e-6:
            continue
        pn, ps, pns = _truth(scm, x, y)
        res = probabilities_of_causation(bn, x, y, method="monotonicity")
        assert res.pn == pytest.approx(pn, abs=1e-9)
        assert res.ps == pytest.approx(ps, abs=1e-9)
        assert res.pns == pytest.approx(pns, abs=1e-9)
        n += 1
    assert n >= 100


def test_tian_pearl_bounds_by_hand():
    # Tian & Pearl 2000 style numbers: P(y_x)=.7, P(y_x')=.3, P(x,y)=.4, P(x,y')=.1,
    # P(x',y)=.2, P(x',y')=.3 -> P(y)=.6
    b = tian_pearl_bounds(0.7, 0.3, 0.4, 0.1, 0.2, 0.3)
    assert b["PNS"] == pytest.approx((0.4, 0.7))   # max(0,.4,.3,.1); min(.7,.7,.7,.4+.1+.2)
    assert b["PN"] == pytest.approx((0.75, 1.0))   # (.6-.3)/.4; min(1, (.7-.3)/.4)
    assert b["PS"] == pytest.approx((1 / 3, 1.0))  # (.7-.6)/.3; min(1, (.7-.4)/.3)


@pytest.mark.parametrize("parameterisation", ["comonotone", "independent"])
def test_scm_from_network_reproduces_every_cpd(make_network, parameterisation):
    for seed in range(10):
        bn = make_network(seed, n_nodes=4, max_parents=2 if parameterisation == "comonotone" else 1)
        scm = DiscreteSCM.from_network(bn, parameterisation)
        for cpd in bn.get_cpds():
            np.testing.assert_allclose(scm.cpd(cpd.variable), cpd.values, atol=1e-12)


def test_comonotone_network_counterfactual_matches_monotonicity_formula():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("x", "y")])
    bn.add_cpds(TabularCPD("x", 2, [[0.6], [0.4]]),
                TabularCPD("y", 2, [[0.8, 0.3], [0.2, 0.7]], evidence=["x"], evidence_card=[2]))
    # P(y_0 = 0 | x = 1, y = 1) under the inverse-CDF coupling: U >= .3 gives y_1 = 1, and
    # y_0 = 1 needs U >= .8, so PN = (.8 - .3) / .7
    f = counterfactual(bn, "y", {"x": 0}, {"x": 1, "y": 1})
    assert f.values[0] == pytest.approx(0.5 / 0.7, abs=1e-12)
    twin = probabilities_of_causation(bn, "x", "y", method="twin")
    mono = probabilities_of_causation(bn, "x", "y", method="monotonicity")
    for a, b in ((twin.pn, mono.pn), (twin.ps, mono.ps), (twin.pns, mono.pns)):
        assert a == pytest.approx(b, abs=1e-12)
    assert "comonotone" in twin.assumption
    # the independent coupling gives another answer: the assumption matters
    ind = counterfactual(bn, "y", {"x": 0}, {"x": 1, "y": 1}, parameterisation="independent")
    assert ind.values[0] == pytest.approx(0.8, abs=1e-12)


def test_simulator_ground_truth_inside_bounds_and_close_under_monotonicity():
    from causalrec.graphs import fit, load_graph
    from causalrec.sim import simulate

    res = simulate("intent_confounding", n_users=1500, n_items=60, per_user=20, seed=3,
                   effect_heterogeneity=0.0, preference_effect=0.0)
    df = res.to_discrete_frame("logs")  # intent is simulated ground truth: fit it like data
    bn = fit(load_graph("intent_confounding"), df)
    t = res.truth
    x = df["exposure"].to_numpy()
    y = np.where(x == 1, t.y1, t.y0)
    sel_n, sel_s = (x == 1) & (y == 1), (x == 0) & (y == 0)
    pn_true = float(np.mean(t.y0[sel_n] == 0))
    ps_true = float(np.mean(t.y1[sel_s] == 1))
    mono = probabilities_of_causation(bn, "exposure", "click", method="monotonicity")
    se_n = np.sqrt(pn_true * (1 - pn_true) / sel_n.sum())
    se_s = np.sqrt(ps_true * (1 - ps_true) / sel_s.sum())
    assert abs(mono.pn - pn_true) < 4 * se_n + 0.03
    assert abs(mono.ps - ps_true) < 4 * se_s + 0.03
    assert mono.pn_bounds[0] - 0.03 <= pn_true <= mono.pn_bounds[1] + 0.03


def test_bad_input_names_the_variable(make_network):
    bn = make_network(1, n_nodes=3)
    with pytest.raises(ValueError, match="'nope', which is not a variable"):
        counterfactual(bn, "nope", {"n0": 0})
    with pytest.raises(ValueError, match="'ghost', which is not a variable"):
        counterfactual(bn, "n2", {"ghost": 0})
    with pytest.raises(ValueError, match="7 is not a state of 'n0'"):
        counterfactual(bn, "n2", {"n0": 7})
    with pytest.raises(ValueError, match="needs an intervention"):
        counterfactual(bn, "n2", {})
    with pytest.raises(ValueError, match="treatment 'zz' is not a node"):
        probabilities_of_causation(bn, "zz", "n2")
    with pytest.raises(ValueError, match="method must be one of"):
        probabilities_of_causation(bn, "n0", "n2", method="guess")
