"""do_query against brute-force truncated factorisation on random networks, plus the cases
where pgmpy's CausalInference.query is wrong."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from causalrec.graphs import ALL, ImpossibleEvidenceError, do_query, prepare

N_SEEDS = 70  # x 3 query shapes per network = 210 (network, do, evidence) cases


def _descendants(bn, node):
    import networkx as nx

    return nx.descendants(bn, node)


def _cases(seed, random_network):
    """Three (variables, do, evidence) cases for network ``seed``: one do-variable with
    evidence, two do-variables where one causes the other, and a random mix."""
    bn = random_network(seed, string_states=seed % 5 == 0)
    rng = np.random.default_rng(10_000 + seed)
    nodes = list(bn.nodes())
    cpds = {c.variable: c for c in bn.get_cpds()}

    def state(v):
        names = cpds[v].state_names[v]
        return names[int(rng.integers(len(names)))]

    cases = []
    perm = rng.permutation(nodes).tolist()
    do = {perm[0]: state(perm[0])}
    rest = perm[1:]
    ev = {rest[0]: state(rest[0])} if len(rest) > 1 else {}
    q = [v for v in rest if v not in ev][:1]
    cases.append((q, do, ev))
    # a do-variable that causes another do-variable
    pairs = [(a, b) for a in nodes for b in _descendants(bn, a)]
    if pairs:
        a, b = pairs[int(rng.integers(len(pairs)))]
        others = [v for v in nodes if v not in (a, b)]
        rng.shuffle(others)
        ev = {others[0]: state(others[0])} if len(others) > 1 and rng.random() < 0.7 else {}
        q = [v for v in others if v not in ev][:2]
        cases.append((q, {a: state(a), b: state(b)}, ev))
    perm = rng.permutation(nodes).tolist()
    k_do = int(rng.integers(1, 3))
    k_ev = int(rng.integers(0, 3))
    do = {v: state(v) for v in perm[:k_do]}
    ev = {v: state(v) for v in perm[k_do:k_do + k_ev]}
    q = perm[k_do + k_ev:k_do + k_ev + 2] or [perm[-1]]
    if q[0] in do or q[0] in ev:
        ev.pop(q[0], None)
        do.pop(q[0], None)
        do = do or {perm[0]: state(perm[0])} if perm[0] != q[0] else do
    cases.append((q, do, ev))
    return bn, cases


@pytest.mark.parametrize("seed", range(N_SEEDS))
def test_do_query_matches_truncated_factorisation(seed, make_network, truth):
    bn, cases = _cases(seed, make_network)
    net = prepare(bn)
    for variables, do, evidence in cases:
        got = do_query(net, variables, do, evidence)
        want = truth(bn, variables, do, evidence)
        assert got.variables == variables
        np.testing.assert_allclose(got.values, want, atol=1e-9, rtol=0,
                                   err_msg=f"seed {seed}: P({variables} | do {do}, {evidence})")
        # the same through the pgmpy network object directly
        np.testing.assert_allclose(do_query(bn, variables, do, evidence).values, want,
                                   atol=1e-9, rtol=0)


def test_case_count_is_at_least_200(make_network):
    n = sum(len(_cases(seed, make_network)[1]) for seed in range(N_SEEDS))
    assert n >= 200


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_all_values_batched_equals_per_value_and_truth(seed, make_network, truth):
    bn, cases = _cases(seed, make_network)
    for variables, do, evidence in cases:
        var = next(iter(do))
        rest = {k: v for k, v in do.items() if k != var}
        batched = do_query(bn, variables, {**rest, var: ALL}, evidence)
        looped = do_query(bn, variables, {**rest, var: ALL}, evidence, batched=False)
        assert batched.variables == [*variables, var]
        np.testing.assert_allclose(batched.values, looped.values, atol=1e-12)
        states = batched.state_names[var]
        for j, s in enumerate(states):
            want = truth(bn, variables, {**rest, var: s}, evidence)
            np.testing.assert_allclose(batched.values[..., j], want, atol=1e-9, rtol=0)


def test_all_values_for_two_do_variables_and_a_subset_of_states(make_network, truth):
    bn = make_network(3, n_nodes=6)
    a, b = "n0", "n2"
    f = do_query(bn, ["n5"], {a: ALL, b: ...}, {"n4": 0})
    assert f.variables == ["n5", a, b]
    for i, sa in enumerate(f.state_names[a]):
        for j, sb in enumerate(f.state_names[b]):
            want = truth(bn, ["n5"], {a: sa, b: sb}, {"n4": 0})
            np.testing.assert_allclose(f.values[:, i, j], want, atol=1e-9)
    sub = do_query(bn, ["n5"], {a: [1, 0]})
    assert sub.state_names[a] == [1, 0]
    np.testing.assert_allclose(sub.values[:, 0], truth(bn, ["n5"], {a: 1}), atol=1e-9)


def _evidence_on_descendant_network():
    """Z -> X -> Y, Z -> Y, X -> W; the query P(Y | do(X=1), W=1) conditions on W, a child
    of the treatment and outside the adjustment set {Z}."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("Z", "X"), ("X", "Y"), ("Z", "Y"), ("X", "W")])
    bn.add_cpds(
        TabularCPD("Z", 2, [[0.7], [0.3]]),
        TabularCPD("X", 2, [[0.9, 0.2], [0.1, 0.8]], evidence=["Z"], evidence_card=[2]),
        TabularCPD("W", 2, [[0.8, 0.1], [0.2, 0.9]], evidence=["X"], evidence_card=[2]),
        TabularCPD("Y", 2, [[0.9, 0.6, 0.5, 0.1], [0.1, 0.4, 0.5, 0.9]],
                   evidence=["X", "Z"], evidence_card=[2, 2]),
    )
    bn.check_model()
    return bn


def test_regression_pgmpy_causalinference_query_wrong_with_evidence_outside_adjustment_set(truth):
    """pgmpy 1.1.2's CausalInference.query computes sum_z P(y | x, z) P(z | w): it drops the
    evidence W from the first term and reads P(z | w) observationally, although under do(X)
    the child W carries no information about Z. The truth (truncated factorisation) is
    P(Y=1 | do(X=1), W=1) = sum_z P(Y=1 | X=1, z) P(z) = 0.7 * 0.5 + 0.3 * 0.9 = 0.62."""
    from pgmpy.inference import CausalInference

    bn = _evidence_on_descendant_network()
    truth = truth(bn, ["Y"], {"X": 1}, {"W": 1})
    assert truth[1] == pytest.approx(0.62, abs=1e-12)
    ours = do_query(bn, ["Y"], {"X": 1}, {"W": 1})
    np.testing.assert_allclose(ours.values, truth, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = CausalInference(bn).query(["Y"], do={"X": 1}, evidence={"W": 1},
                                           show_progress=False)
    # pgmpy's (wrong) answer: P(z | W=1) reweights towards Z=1 through the X -> W arrow
    p_w1_z = np.array([0.9 * 0.2 + 0.1 * 0.9, 0.2 * 0.2 + 0.8 * 0.9])
    p_z_w1 = np.array([0.7, 0.3]) * p_w1_z / (np.array([0.7, 0.3]) @ p_w1_z)
    wrong = p_z_w1 @ np.array([0.5, 0.9])
    assert theirs.values[1] == pytest.approx(wrong, abs=1e-9)
    assert abs(theirs.values[1] - truth[1]) > 0.05


def test_regression_pgmpy_causalinference_query_wrong_when_one_do_variable_causes_another(truth):
    """With do(X1, X2) and X1 -> X2, pgmpy's default adjustment set (parents of the
    do-variables) contains X1 itself and a mediator M, and its loop overwrites the do-value of
    X1 with the adjustment state: the answer is wrong; do_query matches brute force."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import CausalInference
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("A", "M"), ("M", "B"), ("A", "B"), ("A", "Y"), ("B", "Y"),
                                  ("M", "Y")])
    bn.add_cpds(
        TabularCPD("A", 2, [[0.5], [0.5]]),
        TabularCPD("M", 2, [[0.9, 0.1], [0.1, 0.9]], evidence=["A"], evidence_card=[2]),
        TabularCPD("B", 2, [[0.8, 0.5, 0.4, 0.1], [0.2, 0.5, 0.6, 0.9]],
                   evidence=["A", "M"], evidence_card=[2, 2]),
        TabularCPD("Y", 2, [[0.95, 0.7, 0.8, 0.5, 0.6, 0.3, 0.4, 0.05],
                            [0.05, 0.3, 0.2, 0.5, 0.4, 0.7, 0.6, 0.95]],
                   evidence=["A", "B", "M"], evidence_card=[2, 2, 2]),
    )
    truth = truth(bn, ["Y"], {"A": 0, "B": 1})
    np.testing.assert_allclose(do_query(bn, ["Y"], {"A": 0, "B": 1}).values, truth, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = CausalInference(bn).query(["Y"], do={"A": 0, "B": 1}, show_progress=False)
    assert abs(theirs.values[1] - truth[1]) > 0.05


def test_query_may_be_an_ancestor_of_the_intervention():
    bn = _evidence_on_descendant_network()
    # under do(X) the upstream Z keeps its prior, even given the child W
    f = do_query(bn, ["Z"], {"X": 0}, {"W": 1})
    np.testing.assert_allclose(f.values, [0.7, 0.3], atol=1e-12)


def test_state_names_are_kept(make_network, truth):
    bn = make_network(5, n_nodes=4, string_states=True)
    f = do_query(bn, ["n3"], {"n0": "n0_s1"})
    assert f.state_names["n3"] == [f"n3_s{j}" for j in range(f.cardinality[0])]
    assert f.get_value(n3="n3_s0") == pytest.approx(
        truth(bn, ["n3"], {"n0": "n0_s1"})[0], abs=1e-12)


def test_bad_queries_raise_clear_errors():
    bn = _evidence_on_descendant_network()
    with pytest.raises(ValueError, match="'Q' is not a node"):
        do_query(bn, ["Q"], {"X": 1})
    with pytest.raises(ValueError, match="7 is not a state of 'X'"):
        do_query(bn, ["Y"], {"X": 7})
    with pytest.raises(ValueError, match="also intervened on or observed"):
        do_query(bn, ["X"], {"X": 1})
    with pytest.raises(ImpossibleEvidenceError, match="contradicts"):
        do_query(bn, ["Y"], {"X": 1}, {"X": 0})
    # consistent evidence on the intervened node is redundant
    np.testing.assert_allclose(do_query(bn, ["Y"], {"X": 1}, {"X": 1}).values,
                               do_query(bn, ["Y"], {"X": 1}).values)


def test_impossible_evidence_is_detected():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("X", "W"), ("U", "V")])
    bn.add_cpds(TabularCPD("X", 2, [[0.5], [0.5]]),
                TabularCPD("W", 2, [[1.0, 0.0], [0.0, 1.0]], evidence=["X"], evidence_card=[2]),
                TabularCPD("U", 2, [[0.5], [0.5]]),
                TabularCPD("V", 2, [[1.0, 1.0], [0.0, 0.0]], evidence=["U"], evidence_card=[2]))
    with pytest.raises(ImpossibleEvidenceError):
        do_query(bn, ["U"], {"X": 0}, {"W": 1})
    # evidence impossible in a part of the network unconnected to the query
    with pytest.raises(ImpossibleEvidenceError):
        do_query(bn, ["W"], {"X": 0}, {"V": 1})
    with pytest.warns(RuntimeWarning, match="impossible"):
        f = do_query(bn, ["U"], {"X": ALL}, {"W": 1})
    assert np.isnan(f.values[:, 0]).all()
    np.testing.assert_allclose(f.values[:, 1], [0.5, 0.5])
