"""do_query against independent oracles on every bnlearn network pgmpy ships offline.

For each of the 24 discrete bnlearn networks under ``pgmpy/utils/example_models`` (the ones
``pgmpy.utils.get_example_model`` reads without a network connection), random queries with
do-value *lists in random orders* (random subsets of the states, permuted), fixed do-values
and evidence are answered by :func:`causalrec.graphs.do_query` and checked against

* a brute-force enumerator of the truncated factorisation written here (Pearl 2009,
  eq. 3.10), reading every CPD entry by state name, when the query's ancestral set in the
  mutilated graph has at most ``BRUTE_LIMIT`` joint assignments (barren nodes sum to one, so
  dropping them is exact), and
* pgmpy's own ``VariableElimination`` on the mutilated network (arrows into the intervened
  nodes cut, each clamped to a point-mass CPD) for larger ancestral sets.

pgmpy's BIF reader takes ~250 s for all 24 files on this machine, so the files are read by
the small parser below; ``test_parser_matches_pgmpy_reader`` checks it against
``get_example_model`` on two networks.
"""

from __future__ import annotations

import gzip
import math
import re
from pathlib import Path

import numpy as np
import pytest

from causalrec.graphs import do_query

NETWORKS = ("asia", "cancer", "earthquake", "sachs", "survey", "alarm", "barley", "child",
            "insurance", "mildew", "water", "hailfinder", "hepar2", "win95pts", "andes",
            "diabetes", "link", "munin1", "munin2", "munin3", "munin4", "pathfinder", "pigs",
            "munin")
BRUTE_LIMIT = 20_000   # joint assignments of the relevant nodes the enumerator walks
VE_NODES = 40          # largest relevant set handed to pgmpy's VariableElimination
QUERIES = 4            # checked queries per network


def _example_dir() -> Path:
    import pgmpy

    return Path(pgmpy.__file__).parent / "utils" / "example_models"


_VAR = re.compile(r"variable\s+(\S+)\s*\{[^}]*?type\s+discrete\s*\[\s*(\d+)\s*\]\s*\{([^}]*)\}")
_PROB = re.compile(r"probability\s*\(\s*([^|)\s]+)\s*(?:\|\s*([^)]*))?\)\s*\{([^}]*)\}")
_ROW = re.compile(r"\(([^)]*)\)([^;]*);")


def parse_bif(name: str):
    """``(states, parents, tables)`` of a bnlearn BIF file: ``tables[v]`` has axes
    ``[v, *parents[v]]`` in the declared state orders."""
    text = gzip.open(_example_dir() / f"{name}.bif.gz", "rt").read()
    states = {}
    for m in _VAR.finditer(text):
        names = [s.strip() for s in m.group(3).split(",")]
        assert len(names) == int(m.group(2)), m.group(1)
        states[m.group(1)] = names
    parents, tables = {}, {}
    for m in _PROB.finditer(text):
        v = m.group(1)
        ps = [p.strip() for p in m.group(2).split(",")] if m.group(2) else []
        body = m.group(3)
        table = np.zeros([len(states[v])] + [len(states[p]) for p in ps])
        if ps:
            index = [{s: i for i, s in enumerate(states[p])} for p in ps]
            rows = _ROW.findall(body)
            assert len(rows) == int(np.prod(table.shape[1:])), v
            for cfg, vals in rows:
                key = tuple(ix[s.strip()] for ix, s in zip(index, cfg.split(",")))
                table[(slice(None), *key)] = np.array(vals.split(","), dtype=float)
        else:
            table[:] = np.array(body.split("table", 1)[1].strip(" \n;").split(","), dtype=float)
        parents[v], tables[v] = ps, table
    assert set(parents) == set(states), name
    return states, parents, tables


def build(states, parents, tables, do=None):
    """A pgmpy DiscreteBayesianNetwork; ``do`` clamps nodes to point masses (mutilated)."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    do = do or {}
    nodes = list(states)
    bn = DiscreteBayesianNetwork([(p, v) for v in nodes if v not in do for p in parents[v]])
    bn.add_nodes_from(nodes)
    cpds = []
    for v in nodes:
        if v in do:
            col = np.array([[float(s == do[v])] for s in states[v]])
            cpds.append(TabularCPD(v, len(states[v]), col, state_names={v: states[v]}))
            continue
        ps = parents[v]
        t = tables[v].reshape(len(states[v]), -1)
        cpds.append(TabularCPD(v, len(states[v]), t, evidence=ps or None,
                               evidence_card=[len(states[p]) for p in ps] or None,
                               state_names={u: states[u] for u in [v, *ps]}))
    bn.add_cpds(*cpds)
    return bn


def relevant(parents, targets, cut):
    seen, stack = set(), list(targets)
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            if v not in cut:
                stack.extend(parents[v])
    return seen


def brute_force(bn, nodes, variables, do, evidence):
    """``P(variables | do, evidence)`` by enumerating every assignment of ``nodes`` (the
    relevant set) and multiplying, for each non-intervened node, its CPD entry looked up by
    state name."""
    cpds = {c.variable: c for c in bn.get_cpds()}
    nodes = sorted(nodes)
    states = {v: list(cpds[v].state_names[v]) for v in nodes}
    fixed = {**do, **evidence}
    free = [v for v in nodes if v not in fixed]
    grid = np.indices([len(states[v]) for v in free]).reshape(len(free), -1)
    names = {v: np.asarray(states[v], dtype=object)[grid[i]] for i, v in enumerate(free)}
    n = grid.shape[1]
    for v, s in fixed.items():
        names[v] = np.full(n, s, dtype=object)
    weight = np.ones(n)
    for v in nodes:
        if v in do:
            continue
        cpd = cpds[v]
        idx = []
        for u in cpd.variables:
            pos = {s: i for i, s in enumerate(cpd.state_names[u])}
            idx.append(np.array([pos[s] for s in names[u]]))
        weight *= cpd.values[tuple(idx)]
    out = np.zeros([len(states[v]) for v in variables])
    for combo in np.ndindex(*out.shape):
        mask = np.ones(n, dtype=bool)
        for v, j in zip(variables, combo):
            mask &= names[v] == states[v][j]
        out[combo] = weight[mask].sum()
    return out / out.sum()


def pgmpy_mutilated(states, parents, tables, nodes, variables, do, evidence):
    from pgmpy.inference import VariableElimination

    sub = {v: states[v] for v in states if v in nodes}
    bn = build(sub, {v: parents[v] for v in sub}, {v: tables[v] for v in sub}, do)
    ev = {**evidence, **do}
    f = VariableElimination(bn).query(variables, evidence=ev, show_progress=False)
    f = f.copy()
    f.normalize()
    order = [f.variables.index(v) for v in variables]
    values = np.transpose(f.values, order)
    for ax, v in enumerate(variables):  # by state name, into the network's order
        perm = [list(f.state_names[v]).index(s) for s in states[v]]
        values = np.take(values, perm, axis=ax)
    return values


def _query(rng, states, parents):
    """A random query: one variable, a do-list (random subset, random order) on one node,
    sometimes a fixed do-value on a second, sometimes evidence on a third."""
    nodes = list(states)
    while True:
        picks = rng.choice(len(nodes), size=4, replace=False)
        q, x, z, e = (nodes[i] for i in picks)
        k = int(rng.integers(1, len(states[x]) + 1))
        do_list = [states[x][i] for i in rng.permutation(len(states[x]))[:k]]
        fixed = {z: states[z][int(rng.integers(len(states[z])))]} if rng.random() < 0.5 else {}
        ev = {e: states[e][int(rng.integers(len(states[e])))]} if rng.random() < 0.4 else {}
        cut = {x, *fixed}
        rel = relevant(parents, [q, *ev], cut)
        if x not in rel:  # make the intervention matter: query a descendant of x
            kids = [v for v in nodes if x in parents[v] and v not in (z, e)]
            if kids:
                q = kids[int(rng.integers(len(kids)))]
                rel = relevant(parents, [q, *ev], cut)
        yield q, x, do_list, fixed, ev, rel


@pytest.mark.parametrize("name", NETWORKS)
def test_do_query_matches_oracles_on_bnlearn_network(name):
    states, parents, tables = parse_bif(name)
    bn = build(states, parents, tables)
    rng = np.random.default_rng(sum(map(ord, name)))
    checked = {"brute": 0, "pgmpy": 0}
    tries = 0
    for q, x, do_list, fixed, ev, rel in _query(rng, states, parents):
        tries += 1
        assert tries < 500, f"{name}: too few checkable queries"
        joint = math.prod(len(states[v]) for v in rel if v not in {x, *fixed, *ev})
        kind = "brute" if joint <= BRUTE_LIMIT else "pgmpy" if len(rel) <= VE_NODES else None
        if kind is None:
            continue
        try:
            f = do_query(bn, [q], {x: do_list, **fixed}, ev)
        except Exception as exc:  # impossible evidence under the fixed do-value: resample
            if "probability zero" in str(exc):
                continue
            raise
        assert f.variables == [q, x] and f.state_names[x] == do_list
        for j, s in enumerate(do_list):
            col = f.values[:, j]
            if np.isnan(col).any():
                continue  # evidence impossible under this do-value (warned)
            do = {x: s, **fixed}
            if kind == "brute":
                want = brute_force(bn, rel | set(do) | set(ev), [q], do, ev)
            else:
                want = pgmpy_mutilated(states, parents, tables, rel | set(do), [q], do, ev)
            np.testing.assert_allclose(col, want, atol=1e-9, rtol=0, err_msg=(
                f"{name}: P({q} | do({x}={s!r}, {fixed}), {ev}) [{kind}]"))
        checked[kind] += 1
        if sum(checked.values()) >= QUERIES:
            break
    assert sum(checked.values()) == QUERIES


@pytest.mark.parametrize("name", ["asia", "child"])
def test_parser_matches_pgmpy_reader(name):
    from pgmpy.utils import get_example_model

    with pytest.warns(FutureWarning):
        ref = get_example_model(name)
    states, parents, tables = parse_bif(name)
    assert set(ref.nodes()) == set(states)
    for cpd in ref.get_cpds():
        v = cpd.variable
        assert list(cpd.state_names[v]) == states[v]
        assert list(cpd.variables[1:]) == parents[v]
        np.testing.assert_array_equal(cpd.values, tables[v])
