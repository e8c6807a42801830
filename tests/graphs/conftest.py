"""Fixtures for the graph tests: small random discrete Bayesian networks and a brute-force truncated-factorisation oracle.

The oracle enumerates every joint assignment of the network and multiplies the CPD entries of
the non-intervened nodes (Pearl 2009, eq. 3.10), so it shares no code with the elimination
engine it checks.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest


def random_network(seed: int, n_nodes: int | None = None, max_parents: int = 3,
                   string_states: bool = False):
    """A random DAG over ``n0..n{k-1}`` (topological by index) with Dirichlet CPDs."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    rng = np.random.default_rng(seed)
    n = int(n_nodes or rng.integers(3, 8))
    names = [f"n{i}" for i in range(n)]
    card = {v: int(rng.choice([2, 2, 3, 3, 4])) for v in names}
    parents: dict[str, list[str]] = {}
    for i, v in enumerate(names):
        cands = names[:i]
        k = min(len(cands), int(rng.integers(0, max_parents + 1)))
        parents[v] = sorted(rng.choice(cands, size=k, replace=False).tolist()) if k else []
    edges = [(p, v) for v in names for p in parents[v]]
    bn = DiscreteBayesianNetwork(edges)
    bn.add_nodes_from(names)

    def states(v):
        return [f"{v}_s{j}" for j in range(card[v])] if string_states else list(range(card[v]))

    for v in names:
        pc = [card[p] for p in parents[v]]
        cols = int(np.prod(pc)) if pc else 1
        table = rng.dirichlet(np.full(card[v], 0.7), size=cols).T
        bn.add_cpds(TabularCPD(v, card[v], table, evidence=parents[v] or None,
                               evidence_card=pc or None,
                               state_names={u: states(u) for u in [v, *parents[v]]}))
    bn.check_model()
    return bn


def brute_force(bn, variables, do=None, evidence=None) -> np.ndarray:
    """``P(variables | do, evidence)`` by enumerating the truncated factorisation; the array's
    axes follow ``variables`` and each axis follows the CPD's state order."""
    do, evidence = dict(do or {}), dict(evidence or {})
    nodes = list(bn.nodes())
    cpds = {c.variable: c for c in bn.get_cpds()}
    states = {v: list(cpds[v].state_names[v]) for v in nodes}
    out = np.zeros([len(states[v]) for v in variables])
    for assignment in itertools.product(*(range(len(states[v])) for v in nodes)):
        a = dict(zip(nodes, assignment))
        if any(states[v][a[v]] != s for v, s in do.items()):
            continue
        if any(states[v][a[v]] != s for v, s in evidence.items()):
            continue
        w = 1.0
        for v in nodes:
            if v in do:
                continue
            cpd = cpds[v]
            idx = tuple(a[u] for u in cpd.variables)
            w *= float(cpd.values[idx])
        out[tuple(a[v] for v in variables)] += w
    return out / out.sum()


@pytest.fixture(scope="session")
def make_network():
    """``make_network(seed, n_nodes=None, max_parents=3, string_states=False)``."""
    return random_network


@pytest.fixture(scope="session")
def truth():
    """``truth(bn, variables, do, evidence)``: brute-force truncated factorisation."""
    return brute_force
