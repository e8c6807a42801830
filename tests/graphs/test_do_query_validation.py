"""do_query regressions (issue 14): do-value lists in any order, CPD tables read by state
name, and networks validated once (pgmpy's ``check_model`` refuses what is refused here).

Every expected number is a hand computation of the truncated factorisation on a network small
enough to write down, or the brute-force oracle of ``conftest.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalrec.graphs import InvalidNetworkError, do_query, prepare
from causalrec.graphs.interventions import network


def _asia():
    from pgmpy.utils import get_example_model

    return get_example_model("asia")


def test_regression_full_do_list_in_another_order_is_labelled_by_state():
    """Issue 14, defect 1: on asia, P(dysp=yes | do(smoke=no)) is 0.3191, not 0.5528 (the
    answer for smoke=yes) when the do-values cover every state in a non-network order."""
    bn = _asia()
    assert list(bn.get_cpds("smoke").state_names["smoke"]) == ["yes", "no"]
    f = do_query(bn, ["dysp"], {"smoke": ["no", "yes"]})
    assert f.state_names["smoke"] == ["no", "yes"]
    single_no = do_query(bn, ["dysp"], {"smoke": "no"}).get_value(dysp="yes")
    single_yes = do_query(bn, ["dysp"], {"smoke": "yes"}).get_value(dysp="yes")
    assert f.get_value(dysp="yes", smoke="no") == pytest.approx(single_no, abs=1e-12)
    assert f.get_value(dysp="yes", smoke="yes") == pytest.approx(single_yes, abs=1e-12)
    assert f.get_value(dysp="yes", smoke="no") == pytest.approx(0.3191, abs=5e-5)
    assert f.get_value(dysp="yes", smoke="yes") == pytest.approx(0.5528, abs=5e-5)
    looped = do_query(bn, ["dysp"], {"smoke": ["no", "yes"]}, batched=False)
    np.testing.assert_allclose(f.values, looped.values, atol=1e-12)


def test_full_do_list_reversed_on_a_random_network(make_network, truth):
    bn = make_network(11, n_nodes=5, string_states=True)
    net = prepare(bn)
    for var in net.states:
        states = net.states[var]
        rev = states[::-1]
        q = next(v for v in net.states if v != var)
        f = do_query(bn, [q], {var: rev})
        for j, s in enumerate(rev):
            np.testing.assert_allclose(f.values[:, j], truth(bn, [q], {var: s}), atol=1e-12,
                                       err_msg=f"do({var}={s!r}) answered at column {j}")


def _two_node(child_parent_states, child_values, parent_states=("a", "b"),
              parent_values=((0.3,), (0.7,))):
    """X -> Y with P(X) = (0.3, 0.7) over ``parent_states`` and P(Y | X) given column by
    column in the order ``child_parent_states``."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("X", "Y")])
    bn.add_cpds(
        TabularCPD("X", 2, [list(r) for r in parent_values],
                   state_names={"X": list(parent_states)}),
        TabularCPD("Y", 2, child_values, evidence=["X"], evidence_card=[2],
                   state_names={"Y": ["n", "y"], "X": list(child_parent_states)}))
    return bn


def test_child_cpd_listing_parent_states_in_another_order_is_read_by_name():
    """P(Y=y | X=a) = 0.9 and P(Y=y | X=b) = 0.2, written with X's columns as [b, a]:
    P(Y=y) = 0.3 * 0.9 + 0.7 * 0.2 = 0.41 and P(X=a | Y=y) = 0.27 / 0.41. Reading by
    position would give 0.3 * 0.2 + 0.7 * 0.9 = 0.69."""
    bn = _two_node(["b", "a"], [[0.8, 0.1], [0.2, 0.9]])
    with pytest.raises(ValueError, match="state names"):
        bn.check_model()  # pgmpy refuses; causalrec re-indexes by name
    assert do_query(bn, ["Y"], {}).get_value(Y="y") == pytest.approx(0.41, abs=1e-12)
    assert do_query(bn, ["Y"], {"X": "a"}).get_value(Y="y") == pytest.approx(0.9, abs=1e-12)
    assert do_query(bn, ["Y"], {"X": "b"}).get_value(Y="y") == pytest.approx(0.2, abs=1e-12)
    assert do_query(bn, ["X"], {}, {"Y": "y"}).get_value(X="a") == \
        pytest.approx(0.27 / 0.41, abs=1e-12)
    f = do_query(bn, ["Y"], {"X": ["b", "a"]})
    np.testing.assert_allclose(f.values, [[0.8, 0.1], [0.2, 0.9]], atol=1e-12)


def test_child_cpd_with_unknown_parent_state_is_refused():
    bn = _two_node(["a", "c"], [[0.8, 0.1], [0.2, 0.9]])
    with pytest.raises(InvalidNetworkError, match=r"CPD of 'Y' lists the states of 'X' as "
                       r"\['a', 'c'\], but 'X''s own CPD has states \['a', 'b'\]"):
        do_query(bn, ["Y"], {"X": "a"})


def test_column_not_summing_to_one_is_refused_naming_cpd_and_column():
    # P(Y | X=b) = (0.5, 0.7) sums to 1.2; the old engine renormalised it silently
    bn = _two_node(["a", "b"], [[0.1, 0.5], [0.9, 0.7]])
    with pytest.raises(InvalidNetworkError, match=r"CPD of 'Y': P\(Y \| \{'X': 'b'\}\) sums "
                       r"to 1\.2"):
        do_query(bn, ["Y"], {})
    root = _two_node(["a", "b"], [[0.1, 0.5], [0.9, 0.5]], parent_values=((0.3,), (0.6,)))
    with pytest.raises(InvalidNetworkError, match=r"CPD of 'X': P\(X \| no parents\) sums "
                       r"to 0\.9"):
        do_query(root, ["Y"], {"X": "a"})


@pytest.mark.parametrize("value", [np.nan, -0.2, np.inf])
def test_negative_or_non_finite_entry_is_refused(value):
    # pgmpy refuses negative values at construction but not edits to ``values`` afterwards
    bn = _two_node(["a", "b"], [[0.8, 0.5], [0.2, 0.5]])
    bn.get_cpds("Y").values[1, 0] = value
    with pytest.raises(InvalidNetworkError, match=r"CPD of 'Y' has a negative or non-finite "
                       r"entry .* at index \(1, 0\)"):
        do_query(bn, ["Y"], {})


def test_cpd_parents_must_match_the_graph():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("X", "Y"), ("Z", "Y")])
    bn.add_cpds(TabularCPD("X", 2, [[0.5], [0.5]]), TabularCPD("Z", 2, [[0.5], [0.5]]),
                TabularCPD("Y", 2, [[0.1, 0.5], [0.9, 0.5]], evidence=["X"],
                           evidence_card=[2]))
    with pytest.raises(InvalidNetworkError, match=r"CPD of 'Y' conditions on \['X'\] but its "
                       r"parents in the graph are \['X', 'Z'\]"):
        do_query(bn, ["Y"], {"X": 0})


def test_missing_cpd_is_refused():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork([("X", "Y")])
    bn.add_cpds(TabularCPD("X", 2, [[0.5], [0.5]]))
    with pytest.raises(InvalidNetworkError, match=r"no CPD for node\(s\) \['Y'\]"):
        do_query(bn, ["X"], {})


def test_validated_once_per_network_and_revalidated_when_a_cpd_changes():
    from pgmpy.factors.discrete import TabularCPD

    bn = _two_node(["a", "b"], [[0.8, 0.1], [0.2, 0.9]])
    first = network(bn)
    assert network(bn) is first  # cached: no second read or validation
    do_query(bn, ["Y"], {"X": "a"})
    assert network(bn) is first
    # replacing a CPD invalidates the cache (and the new CPD is validated)
    bn.remove_cpds(bn.get_cpds("Y"))
    bn.add_cpds(TabularCPD("Y", 2, [[0.8, 0.1], [0.3, 0.9]], evidence=["X"],
                           evidence_card=[2], state_names={"Y": ["n", "y"], "X": ["a", "b"]}))
    with pytest.raises(InvalidNetworkError, match=r"sums to 1\.1"):
        do_query(bn, ["Y"], {})
    with pytest.raises(InvalidNetworkError):  # the refusal left nothing cached
        network(bn)


def test_cache_is_per_network_object_not_per_structure():
    """pgmpy's DAG hashes by structure: two networks with the same edges and different CPDs
    must not share a cache entry, and a network that goes away leaves no entry behind."""
    import gc

    from causalrec.graphs import interventions

    a = _two_node(["a", "b"], [[0.8, 0.1], [0.2, 0.9]])
    b = _two_node(["a", "b"], [[0.5, 0.5], [0.5, 0.5]])
    assert a == b  # same structure
    assert do_query(a, ["Y"], {"X": "a"}).get_value(Y="y") == pytest.approx(0.2)
    assert do_query(b, ["Y"], {"X": "a"}).get_value(Y="y") == pytest.approx(0.5)
    assert network(a) is network(a) and network(a) is not network(b)
    key = id(b)
    del b
    gc.collect()
    assert key not in interventions._PREPARED
