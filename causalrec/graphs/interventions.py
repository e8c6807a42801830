"""Exact interventional queries ``P(variables | do(X = x), evidence)`` on a fitted network.

The answer is Pearl's truncated factorisation (Pearl, *Causality*, 2009, eq. 3.10; Spirtes,
Glymour & Scheines 1993): in the *mutilated* graph, where the arrows into every intervened
node are cut and the node is clamped to its value,

    P(v | do(x)) = prod_{i not in X} P(v_i | pa_i) |_{X = x},

and evidence is conditioned on inside that distribution,
``P(y | do(x), e) = P_x(y, e) / P_x(e)``. It is computed by one variable elimination
(:mod:`causalrec.graphs.elimination`) over the CPDs of the ancestors of the query and evidence
in the mutilated graph (barren nodes never enter; Shachter 1986).

Unlike ``pgmpy.inference.CausalInference.query`` this needs no adjustment set and no loop over
its states, and it stays correct when the evidence is a descendant of the treatment, when
several intervened nodes cause one another, and when evidence sits outside any adjustment set.

All values at once: give a do-variable the value :data:`ALL` (or a list of states) and every
value is answered by **one** elimination: the intervened node is kept as a free root (a
uniform prior), the joint over the query and the intervened nodes is computed, and the
intervened nodes' marginal is divided out, i.e. ``P_x(y, e) / P_x(e)`` for every ``x``.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .elimination import eliminate

ALL = Ellipsis
"""Pass as a do-value (``do={"X": ALL}``, or ``do={"X": ...}``) to answer every state of X."""


class ImpossibleEvidenceError(ValueError):
    """The evidence has probability zero under the requested intervention."""


#: a CPD column may sum to 1 within this tolerance (BIF files print rounded probabilities);
#: larger deviations are refused, as pgmpy's ``check_model`` refuses them
SUM_TOLERANCE = 1e-3


class InvalidNetworkError(ValueError):
    """The network's CPDs do not define a Bayesian network (missing or inconsistent CPDs,
    unknown parent states, columns that are not distributions)."""


class PreparedNetwork:
    """The CPD tables of a fitted DiscreteBayesianNetwork, validated and read once: what
    :func:`prepare` returns, accepted wherever a network is (:func:`do_query`, ...).

    Every table is re-indexed **by state name** so that each axis follows the variable's own
    state order (the order of the states in its own CPD): a child's CPD may list a parent's
    states in another order, and is read correctly. Validation (once, on construction):
    every node has exactly one CPD whose parents are the node's parents in the graph; the
    states a child's CPD lists for a parent are the parent's states (same names, any
    order); every entry is finite and non-negative; and every column sums to 1 within
    ``SUM_TOLERANCE`` (1e-3). Anything else raises :class:`InvalidNetworkError` naming the CPD.
    """

    def __init__(self, bn: Any) -> None:
        cpds: dict = {}
        for cpd in bn.get_cpds():
            if cpd.variable in cpds:
                raise InvalidNetworkError(f"node {cpd.variable!r} has two CPDs")
            cpds[cpd.variable] = cpd
        missing = [n for n in bn.nodes() if n not in cpds]
        if missing:
            raise InvalidNetworkError(f"the network has no CPD for node(s) {missing}; fit it "
                                      "first (causalrec.graphs.fit)")
        extra = [n for n in cpds if n not in bn]
        if extra:
            raise InvalidNetworkError(f"CPD(s) for {extra}, which are not nodes of the network")
        self.cpds = cpds
        self.parents = {n: list(cpds[n].variables[1:]) for n in cpds}
        self.card = {n: int(cpds[n].cardinality[0]) for n in cpds}
        self.states = {n: list(cpds[n].state_names[n]) for n in cpds}
        for n, states in self.states.items():
            if len(states) != self.card[n] or len(set(states)) != len(states):
                raise InvalidNetworkError(f"CPD of {n!r}: its states {states} are not "
                                          f"{self.card[n]} distinct names")
        self.tables = {n: self._read(cpds[n], set(bn.get_parents(n))) for n in cpds}

    def _read(self, cpd: Any, graph_parents: set) -> np.ndarray:
        """``cpd``'s table as float64, each axis in its variable's own state order."""
        node = cpd.variable
        if set(self.parents[node]) != graph_parents or \
                len(self.parents[node]) != len(graph_parents):
            raise InvalidNetworkError(
                f"CPD of {node!r} conditions on {self.parents[node]} but its parents in the "
                f"graph are {sorted(graph_parents, key=str)}")
        table = np.asarray(cpd.values, dtype=np.float64)
        for axis, var in enumerate(cpd.variables):
            listed = list(cpd.state_names[var])
            own = self.states[var]
            if listed == own:
                continue
            pos = {s: i for i, s in enumerate(listed)}
            if len(pos) != len(own) or any(s not in pos for s in own):
                raise InvalidNetworkError(
                    f"CPD of {node!r} lists the states of {var!r} as {listed}, but {var!r}'s "
                    f"own CPD has states {own}")
            table = np.take(table, [pos[s] for s in own], axis=axis)
        bad = ~np.isfinite(table) | (table < 0)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InvalidNetworkError(f"CPD of {node!r} has a negative or non-finite entry "
                                      f"{table[where]!r} at index {where}")
        sums = table.sum(axis=0)
        off = np.abs(sums - 1.0) > SUM_TOLERANCE
        if off.any():
            col = tuple(int(i) for i in np.argwhere(np.atleast_1d(off))[0])
            parents = {p: self.states[p][i] for p, i in zip(self.parents[node], col)}
            got = round(float(np.atleast_1d(sums)[col]), 9)
            raise InvalidNetworkError(
                f"CPD of {node!r}: P({node} | {parents or 'no parents'}) sums to {got!r}, not "
                f"1 (tolerance {SUM_TOLERANCE}; {int(off.sum())} column(s) off)")
        return table

    def state_index(self, var: Hashable, state: Any, what: str) -> int:
        if var not in self.cpds:
            raise ValueError(f"{what} names {var!r}, which is not a node of the network")
        states = self.states[var]
        for i, s in enumerate(states):
            if s == state:
                return i
        raise ValueError(f"{what}: {state!r} is not a state of {var!r} (states: {states})")



#: id(bn) -> (weak reference to bn, signature, prepared network). Keyed by identity: pgmpy's
#: DAG hashes and compares by structure, so two networks with the same edges would collide.
_PREPARED: dict[int, tuple] = {}


def _signature(bn: Any) -> tuple:
    """What a cached :class:`PreparedNetwork` was read from: the graph's edges and, per CPD,
    the CPD object, its value array and its state names (held, so compared by identity: replacing
    a CPD or its values changes the signature; editing a values array in place does not -
    call :func:`prepare` again after that)."""
    return tuple(bn.edges()), tuple((c, c.values, c.state_names) for c in bn.get_cpds())


def _same(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and len(a[1]) == len(b[1]) and all(
        x is y for pa, pb in zip(a[1], b[1]) for x, y in zip(pa, pb))


def _remember(bn: Any, net: PreparedNetwork) -> None:
    key = id(bn)
    try:
        ref = weakref.ref(bn, lambda _, key=key: _PREPARED.pop(key, None))
    except TypeError:  # not weak-referenceable: no caching
        return
    _PREPARED[key] = (ref, _signature(bn), net)


def network(bn: Any) -> PreparedNetwork:
    """The validated tables of ``bn``, read once per network and cached while its CPDs are
    unchanged (``bn`` may already be a prepared network)."""
    if isinstance(bn, PreparedNetwork):
        return bn
    cached = _PREPARED.get(id(bn))
    if cached is not None and cached[0]() is bn and _same(cached[1], _signature(bn)):
        return cached[2]
    net = PreparedNetwork(bn)
    _remember(bn, net)
    return net


def _as_list(variables: str | Iterable[Hashable]) -> list:
    if isinstance(variables, str):
        return [variables]
    return list(variables)


def _relevant(net: PreparedNetwork, targets: Iterable[Hashable], cut: set) -> set:
    """Ancestors of ``targets`` (inclusive) in the graph with the arrows into ``cut`` removed."""
    seen: set = set()
    stack = list(targets)
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v not in cut:
            stack.extend(net.parents[v])
    return seen


def _normalise_do(net: PreparedNetwork, do: Mapping) -> tuple[dict, dict]:
    """Split ``do`` into fixed {var: index} and batched {var: [indices]}."""
    fixed, batched = {}, {}
    for var, value in do.items():
        if var not in net.cpds:
            raise ValueError(f"do names {var!r}, which is not a node of the network")
        if value is ALL:
            batched[var] = list(range(net.card[var]))
        elif isinstance(value, list | tuple | set | frozenset | np.ndarray):
            idx = [net.state_index(var, s, "do") for s in value]
            if not idx:
                raise ValueError(f"do: empty list of values for {var!r}")
            batched[var] = idx
        else:
            fixed[var] = net.state_index(var, value, "do")
    return fixed, batched


def do_query(bn: Any, variables: str | Sequence[Hashable], do: Mapping | None = None,
             evidence: Mapping | None = None, *, batched: bool = True):
    """``P(variables | do(do), evidence)`` as a :class:`pgmpy.factors.discrete.DiscreteFactor`.

    Parameters
    ----------
    bn
        A fitted :class:`pgmpy.models.DiscreteBayesianNetwork` (every node has a CPD).
    variables
        The query variables (a name or a list). They may be ancestors or descendants of the
        intervened nodes, but not intervened or observed themselves.
    do
        ``{node: state}``; several nodes may be intervened on at once (one may cause
        another). A value :data:`ALL` (``...``) or a list of states answers all of them: the
        returned factor then also has that node as a variable and holds, for each of its
        values ``x``, the distribution ``P(variables | do(X=x), evidence)`` (it sums to 1
        over ``variables`` for each ``x``).
    evidence
        ``{node: state}`` on any other node (ancestor, descendant, or unrelated), read as the
        conditional interventional distribution. Evidence on an intervened node must equal
        the intervened value (it is then redundant).
    batched
        With list/ALL do-values: ``True`` answers all values by one elimination; ``False``
        runs one elimination per value combination (same numbers; for benchmarks).

    Raises
    ------
    ImpossibleEvidenceError
        When the evidence has probability zero under the (single) intervention.
    InvalidNetworkError
        When the network's CPDs are not a Bayesian network (checked once per network and
        cached; CPD tables are read by state name, see :class:`PreparedNetwork`).
    """
    from pgmpy.factors.discrete import DiscreteFactor

    net = network(bn)
    variables = _as_list(variables)
    if not variables:
        raise ValueError("do_query needs at least one query variable")
    do = dict(do or {})
    evidence = dict(evidence or {})
    for v in variables:
        if v not in net.cpds:
            raise ValueError(f"query variable {v!r} is not a node of the network")
    if len(set(variables)) != len(variables):
        raise ValueError(f"query variables repeat: {variables}")
    fixed, batch = _normalise_do(net, do)
    ev = {}
    for var, state in evidence.items():
        idx = net.state_index(var, state, "evidence")
        if var in fixed:
            if fixed[var] != idx:
                raise ImpossibleEvidenceError(
                    f"evidence {var}={state!r} contradicts the intervention do({var}="
                    f"{do[var]!r})")
            continue
        if var in batch:
            raise ValueError(f"evidence on {var!r}, which is intervened on for several values;"
                             " give a single do-value instead")
        ev[var] = idx
    clash = [v for v in variables if v in do or v in evidence]
    if clash:
        raise ValueError(f"query variable(s) {clash} are also intervened on or observed")

    if batch and not batched:
        return _per_value(net, variables, fixed, batch, ev)

    cut = set(fixed) | set(batch)
    relevant = _relevant(net, list(variables) + list(ev), cut)
    factors = []
    for node in relevant:
        if node in cut:
            continue
        scope = [node, *net.parents[node]]
        table = net.tables[node]
        index: list[Any] = []
        new_scope = []
        for axis_var in scope:
            if axis_var in fixed:
                index.append(fixed[axis_var])
            elif axis_var in ev:
                index.append(ev[axis_var])
            elif axis_var in batch:
                ids = batch[axis_var]
                # a slice only when the do-values are exactly the states in their own order:
                # a list covering every state in another order must still be reordered
                index.append(slice(None) if ids == list(range(net.card[axis_var]))
                             else np.asarray(ids))
                new_scope.append(axis_var)
            else:
                index.append(slice(None))
                new_scope.append(axis_var)
        table = _take(table, index)
        factors.append((tuple(new_scope), table))

    card = {v: (len(batch[v]) if v in batch else net.card[v]) for v in relevant | set(batch)}
    batch_vars = [v for v in batch]
    keep = list(variables) + batch_vars
    table, constant = eliminate(factors, keep, card)
    n_q = len(variables)
    if batch_vars:
        denom = table.sum(axis=tuple(range(n_q)), keepdims=True)
        ok = denom * constant > 0
        bad = np.argwhere(~ok.reshape(ok.shape[n_q:]))
        values = np.where(ok, table / np.where(ok, denom, 1.0), np.nan)
        if len(bad):
            first = {v: net.states[v][batch[v][i]] for v, i in zip(batch_vars, bad[0])}
            warnings.warn(f"evidence {evidence} is impossible under do({first}) (and "
                          f"{len(bad) - 1} other value combination(s)); those entries are NaN",
                          RuntimeWarning, stacklevel=2)
    else:
        total = float(table.sum()) * constant
        if not total > 0:
            raise ImpossibleEvidenceError(
                f"evidence {evidence} has probability zero under do({do})")
        values = table / table.sum()
    state_names = {v: list(net.states[v]) for v in variables}
    for v in batch_vars:
        state_names[v] = [net.states[v][i] for i in batch[v]]
    return DiscreteFactor(keep, [card[v] for v in keep], values, state_names=state_names)


def _take(table: np.ndarray, index: list) -> np.ndarray:
    """Index one axis at a time (integer -> axis dropped; array -> subset; slice -> kept)."""
    out = table
    axis = 0
    for idx in index:
        if isinstance(idx, slice):
            axis += 1
        elif isinstance(idx, np.ndarray):
            out = np.take(out, idx, axis=axis)
            axis += 1
        else:
            out = np.take(out, idx, axis=axis)
    return out


def _per_value(net: PreparedNetwork, variables: list, fixed: dict, batch: dict, ev: dict):
    """One elimination per combination of batched do-values (the slow reference path)."""
    from pgmpy.factors.discrete import DiscreteFactor

    batch_vars = list(batch)
    q_card = [net.card[v] for v in variables]
    out = np.empty(q_card + [len(batch[v]) for v in batch_vars])
    evidence = {v: net.states[v][i] for v, i in ev.items()}
    for combo in itertools.product(*(range(len(batch[v])) for v in batch_vars)):
        do = {v: net.states[v][i] for v, i in fixed.items()}
        do.update({v: net.states[v][batch[v][j]] for v, j in zip(batch_vars, combo)})
        try:
            f = do_query(net, variables, do, evidence)
            out[(Ellipsis, *combo)] = f.values
        except ImpossibleEvidenceError:
            out[(Ellipsis, *combo)] = np.nan
    state_names = {v: list(net.states[v]) for v in variables}
    for v in batch_vars:
        state_names[v] = [net.states[v][i] for i in batch[v]]
    keep = variables + batch_vars
    return DiscreteFactor(keep, list(out.shape), out, state_names=state_names)


def prepare(bn: Any) -> PreparedNetwork:
    """Validate a network and read its CPD tables once, for many :func:`do_query` calls
    (``net = prepare(bn); do_query(net, ...)``). Always re-reads ``bn`` (use it after editing
    a CPD's values in place); :func:`do_query` on the network object caches the same."""
    if isinstance(bn, PreparedNetwork):
        return bn
    net = PreparedNetwork(bn)
    _remember(bn, net)
    return net
