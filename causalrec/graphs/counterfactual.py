"""Counterfactual queries on a discrete structural causal model, by twin networks.

A counterfactual such as "would this user have clicked had the item not been shown, given
that it was shown and clicked?" needs more than the fitted network: it needs the *structural*
model ``V = f_V(pa_V, U_V)`` with exogenous ``U``. Pearl's three steps (*Causality*, 2009,
sec. 7.1.1) are **abduction** (the posterior of ``U`` given the evidence), **action** (replace
the equations of the intervened nodes) and **prediction** (push ``U`` through the modified
model). They are computed at once on a **twin network** (Balke & Pearl 1994, "Probabilistic
evaluation of counterfactual queries"): one copy of the endogenous nodes per world, sharing
the exogenous nodes; a node whose intervention and parents are the same in two worlds is one
node (the merged twin network of Shpitser & Pearl 2007), and the whole product is summed by
the variable elimination engine of :func:`~causalrec.graphs.do_query`.

:class:`DiscreteSCM` holds finite exogenous variables and response functions (tables of state
indices). A fitted network does not determine its SCM; :meth:`DiscreteSCM.from_network`
states the assumption:

- ``"comonotone"``: one uniform ``U_V`` per node, ``V = F^{-1}_{V | pa}(U_V)`` (the inverse-CDF
  coupling the causalrec simulator uses), discretised exactly at the CPD's cumulative
  probabilities. For a binary node this is Tian & Pearl's monotonicity whenever
  ``P(v | pa)`` is ordered the same way for the compared parent values;
- ``"independent"``: the canonical response-function parameterisation (Balke & Pearl 1994)
  with independent responses across parent configurations (the number of exogenous states is
  the product of the CPD columns' cardinalities, so only for small CPDs).

Probabilities of causation (:mod:`causalrec.graphs.causation`) build on these queries.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from .elimination import eliminate

PARAMETERISATIONS = ("comonotone", "independent")
_MAX_INDEPENDENT_STATES = 1 << 16


class DiscreteSCM:
    """A structural causal model with discrete endogenous and finite exogenous variables.

    Args:
        states: ``{node: [states]}`` of the endogenous nodes.
        parents: ``{node: [endogenous parents]}``.
        exogenous: ``{U: probability vector}``; a U shared by several nodes is a hidden
            common cause.
        exo_parents: ``{node: [exogenous parents]}``.
        functions: ``{node: int array}`` of state indices, axes = endogenous parents then
            exogenous parents (in the orders given).
        assumption: a sentence saying where the structural equations come from.
    """

    def __init__(self, states: Mapping[Hashable, Sequence], parents: Mapping[Hashable, Sequence],
                 exogenous: Mapping[Hashable, Any], exo_parents: Mapping[Hashable, Sequence],
                 functions: Mapping[Hashable, Any], assumption: str = "given") -> None:
        self.states = {v: list(s) for v, s in states.items()}
        self.card = {v: len(s) for v, s in self.states.items()}
        self.parents = {v: list(parents.get(v, ())) for v in self.states}
        self.exogenous = {u: np.asarray(p, dtype=float) for u, p in exogenous.items()}
        self.exo_parents = {v: list(exo_parents.get(v, ())) for v in self.states}
        self.functions = {v: np.asarray(functions[v], dtype=np.int64) if v in functions
                          else None for v in self.states}
        self.assumption = assumption
        self._validate()
        self.order = _topological(self.parents)
        users: dict[Hashable, int] = {}
        for v in self.states:
            for u in self.exo_parents[v]:
                users[u] = users.get(u, 0) + 1
        self._shared = {u for u, n in users.items() if n > 1}

    def _validate(self) -> None:
        for v, fn in self.functions.items():
            if fn is None:
                raise ValueError(f"structural model: node {v!r} has no function")
            for p in self.parents[v]:
                if p not in self.states:
                    raise ValueError(f"structural model: parent {p!r} of {v!r} is not a node")
            for u in self.exo_parents[v]:
                if u not in self.exogenous:
                    raise ValueError(f"structural model: exogenous {u!r} of {v!r} is undeclared")
            shape = tuple(self.card[p] for p in self.parents[v]) + tuple(
                len(self.exogenous[u]) for u in self.exo_parents[v])
            if fn.shape != shape:
                raise ValueError(f"structural model: function of {v!r} has shape {fn.shape}, "
                                 f"expected {shape} (parents then exogenous parents)")
            if fn.size and (fn.min() < 0 or fn.max() >= self.card[v]):
                raise ValueError(f"structural model: function of {v!r} returns a state index "
                                 f"outside 0..{self.card[v] - 1}")
        for u, p in self.exogenous.items():
            if p.ndim != 1 or (p < 0).any() or abs(p.sum() - 1.0) > 1e-9:
                raise ValueError(f"structural model: exogenous {u!r} needs a probability "
                                 f"vector, got {p}")

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_network(cls, bn: Any, parameterisation: str = "comonotone") -> DiscreteSCM:
        """The structural model of a fitted network under ``parameterisation`` (see the
        module docstring); it reproduces every CPD exactly."""
        if parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}, got "
                             f"{parameterisation!r}")
        from .interventions import network

        net = network(bn)
        exo, fns, exo_par = {}, {}, {}
        for v in net.cpds:
            # each axis in its variable's own state order (the network reader's tables)
            table = np.asarray(getattr(net, "tables", {}).get(v, net.cpds[v].values), float)
            table = table.reshape(net.card[v], -1)  # state x parent configuration
            pa_shape = tuple(net.card[p] for p in net.parents[v])
            if parameterisation == "comonotone":
                probs, fn = _comonotone(table)
            else:
                probs, fn = _independent(table, v)
            uname = ("U", v)
            exo[uname] = probs
            exo_par[v] = [uname]
            fns[v] = fn.reshape(pa_shape + (len(probs),))
        text = ("comonotone: V = inverse CDF of P(V | pa) at one uniform U_V per node"
                if parameterisation == "comonotone" else
                "independent response functions across parent configurations")
        return cls(net.states, net.parents, exo, exo_par, fns, assumption=text)

    # ------------------------------------------------------------------ access
    def check_variable(self, var: Hashable, what: str) -> None:
        if var not in self.states:
            raise ValueError(f"{what} names {var!r}, which is not a variable of the structural "
                             f"model (variables: {', '.join(map(str, self.states))})")

    def state_index(self, var: Hashable, state: Any, what: str) -> int:
        self.check_variable(var, what)
        for i, s in enumerate(self.states[var]):
            if s == state:
                return i
        raise ValueError(f"{what}: {state!r} is not a state of {var!r} "
                         f"(states: {self.states[var]})")

    def cpd(self, v: Hashable) -> np.ndarray:
        """``P(v | endogenous parents, shared exogenous parents)`` induced by the model:
        axes = v, parents, shared exogenous parents."""
        fn = self.functions[v]
        n_pa = len(self.parents[v])
        private = [i for i, u in enumerate(self.exo_parents[v]) if u not in self._shared]
        out = np.zeros((self.card[v],) + fn.shape)
        np.put_along_axis(out, fn[None], 1.0, axis=0)
        for i in private:
            p = self.exogenous[self.exo_parents[v][i]]
            shape = [1] * out.ndim
            shape[1 + n_pa + i] = len(p)
            out = out * p.reshape(shape)
        return out.sum(axis=tuple(1 + n_pa + i for i in private))

    def to_network(self):
        """The causal Bayesian network the model induces (shared exogenous variables become
        latent root nodes named ``str(U)``), for :func:`~causalrec.graphs.do_query`."""
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

        shared = [u for u in self.exogenous if u in self._shared]
        names = {u: str(u) for u in shared}
        edges = [(p, v) for v in self.states for p in self.parents[v]]
        edges += [(names[u], v) for v in self.states for u in self.exo_parents[v] if u in names]
        bn = DiscreteBayesianNetwork(edges, latents=set(names.values()))
        bn.add_nodes_from(list(self.states) + list(names.values()))
        for u in shared:
            p = self.exogenous[u]
            bn.add_cpds(TabularCPD(names[u], len(p), p.reshape(-1, 1),
                                   state_names={names[u]: list(range(len(p)))}))
        for v in self.states:
            ev = self.parents[v] + [names[u] for u in self.exo_parents[v] if u in names]
            table = self.cpd(v).reshape(self.card[v], -1)
            sn = {v: self.states[v]}
            sn.update({p: self.states[p] for p in self.parents[v]})
            sn.update({names[u]: list(range(len(self.exogenous[u])))
                       for u in self.exo_parents[v] if u in names})
            cards = [len(sn[p]) for p in ev]
            bn.add_cpds(TabularCPD(v, self.card[v], table, evidence=ev or None,
                                   evidence_card=cards or None, state_names=sn))
        bn.check_model()
        return bn


def _comonotone(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exogenous intervals and the inverse-CDF response for a ``state x config`` table."""
    cum = np.cumsum(table, axis=0)[:-1]  # (card-1) x configs
    cuts = np.unique(np.concatenate([[0.0, 1.0], np.clip(cum.ravel(), 0.0, 1.0)]))
    widths = np.diff(cuts)
    keep = widths > 0
    lo, widths = cuts[:-1][keep], widths[keep]
    mid = lo + widths / 2
    fn = (mid[None, None, :] >= cum[:, :, None]).sum(axis=0)  # configs x intervals
    return widths / widths.sum(), fn


def _independent(table: np.ndarray, v: Hashable) -> tuple[np.ndarray, np.ndarray]:
    """One independent response per parent configuration (canonical parameterisation)."""
    card, n_cfg = table.shape
    n = card ** n_cfg
    if n > _MAX_INDEPENDENT_STATES:
        raise ValueError(f"node {v!r}: independent response functions need {card}^{n_cfg} "
                         f"exogenous states; use parameterisation='comonotone'")
    resp = np.array(list(itertools.product(range(card), repeat=n_cfg)), dtype=np.int64)
    probs = np.prod(table[resp, np.arange(n_cfg)[None, :]], axis=1)
    return probs, resp.T  # configs x responses


def _topological(parents: Mapping[Hashable, Sequence]) -> list:
    order, done, visiting = [], set(), set()

    def visit(v):
        if v in done:
            return
        if v in visiting:
            raise ValueError(f"structural model has a cycle through {v!r}")
        visiting.add(v)
        for p in parents[v]:
            visit(p)
        visiting.discard(v)
        done.add(v)
        order.append(v)

    for v in parents:
        visit(v)
    return order


def as_scm(model: Any, parameterisation: str = "comonotone") -> DiscreteSCM:
    """``model`` itself when it is a :class:`DiscreteSCM`, else the structural model of a
    fitted network under ``parameterisation``."""
    if isinstance(model, DiscreteSCM):
        return model
    return DiscreteSCM.from_network(model, parameterisation)


def multi_world_query(scm: DiscreteSCM, worlds: Sequence[Mapping], query: Sequence[tuple],
                      evidence: Sequence[tuple] = ()) -> np.ndarray:
    """``P(query | evidence)`` across several worlds of one unit, on the merged twin network.

    Args:
        scm: the structural model.
        worlds: one ``{node: state}`` intervention per world (``{}`` is the factual world).
        query: ``(world, node)`` pairs; the returned array has one axis per pair (in the
            node's state order).
        evidence: ``(world, node, state)`` triples observed in those worlds.

    Raises:
        ValueError: unknown node or state, a world index out of range, or evidence with
            probability zero.
    """
    worlds = [dict(w) for w in worlds]
    if not worlds:
        raise ValueError("multi_world_query needs at least one world")

    def check_world(w, what):
        if not isinstance(w, int | np.integer) or not 0 <= w < len(worlds):
            raise ValueError(f"{what}: world {w!r} is not one of 0..{len(worlds) - 1}")

    do_idx = []
    for wi, w in enumerate(worlds):
        do_idx.append({v: scm.state_index(v, s, f"world {wi} intervention") for v, s in w.items()})
    version: list[dict] = [{} for _ in worlds]   # world -> node -> version key
    fixed: dict = {}                              # version key -> fixed state index
    intern: dict = {}
    for v in scm.order:
        for wi in range(len(worlds)):
            if v in do_idx[wi]:
                sig = ("do", v, do_idx[wi][v])
                key = intern.setdefault(sig, (v, len(intern)))
                fixed[key] = do_idx[wi][v]
            else:
                sig = ("f", v, tuple(version[wi][p] for p in scm.parents[v]))
                key = intern.setdefault(sig, (v, len(intern)))
            version[wi][v] = key
    ev: dict = {}
    for item in evidence:
        if len(item) != 3:
            raise ValueError(f"evidence entries are (world, node, state) triples, got {item!r}")
        w, v, s = item
        check_world(w, "evidence")
        idx = scm.state_index(v, s, "evidence")
        key = version[w][v]
        if key in fixed:
            if fixed[key] != idx:
                raise ValueError(f"evidence {v}={s!r} in world {w} contradicts its intervention")
            continue
        if ev.get(key, idx) != idx:
            raise ValueError(f"evidence on {v!r} is contradictory (states {ev[key]} and {idx})")
        ev[key] = idx
    qkeys = []
    for item in query:
        if len(item) != 2:
            raise ValueError(f"query entries are (world, node) pairs, got {item!r}")
        w, v = item
        check_world(w, "query")
        scm.check_variable(v, "counterfactual query")
        qkeys.append(version[w][v])
    free_q = list(dict.fromkeys(k for k in qkeys if k not in fixed and k not in ev))
    factors, card = _twin_factors(scm, version, fixed, ev)
    table, constant = eliminate(factors, free_q, card)
    total = float(table.sum()) * constant
    if not total > 0:
        raise ValueError(f"counterfactual evidence {list(evidence)} has probability zero")
    table = table / table.sum()
    out = np.zeros([scm.card[v] for _, v in query])
    for cell in itertools.product(*(range(n) for n in out.shape)):
        assign: dict = {}
        ok = True
        for key, s in zip(qkeys, cell):
            want = fixed.get(key, ev.get(key))
            if (want is not None and want != s) or assign.get(key, s) != s:
                ok = False
                break
            assign[key] = s
        if ok:
            out[cell] = table[tuple(assign[k] for k in free_q)] if free_q else 1.0
    return out


def _twin_factors(scm: DiscreteSCM, version: list[dict], fixed: dict, ev: dict):
    """Factors of the merged twin network: a marginal CPD for nodes with a single free
    version and private noise, else response functions plus the exogenous priors."""
    card: dict = {}
    versions: dict = {}
    for wv in version:
        for v, key in wv.items():
            if key not in fixed:
                versions.setdefault(v, {})[key] = wv
    factors, used_u = [], set()
    for v in scm.order:
        keys = versions.get(v, {})
        if not keys:
            continue
        merge = len(keys) == 1 and not any(u in scm._shared for u in scm.exo_parents[v])
        table_full = scm.cpd(v) if merge else None
        for key, wv in keys.items():
            card[key] = scm.card[v]
            pa_keys = [wv[p] for p in scm.parents[v]]
            if merge:
                shared_u = [u for u in scm.exo_parents[v] if u in scm._shared]
                scope = [key, *pa_keys, *(("__exo__", u) for u in shared_u)]
                table = table_full
            else:
                fn = scm.functions[v]
                table = np.zeros((scm.card[v],) + fn.shape)
                np.put_along_axis(table, fn[None], 1.0, axis=0)
                scope = [key, *pa_keys, *(("__exo__", u) for u in scm.exo_parents[v])]
                used_u.update(scm.exo_parents[v])
            index, new_scope = [], []
            for var in scope:
                val = fixed.get(var, ev.get(var))
                if val is not None:
                    index.append(val)
                else:
                    index.append(slice(None))
                    new_scope.append(var)
            factors.append((tuple(new_scope), table[tuple(index)]))
            if merge:
                used_u.update(u for u in scm.exo_parents[v] if u in scm._shared)
    for u in used_u:
        card[("__exo__", u)] = len(scm.exogenous[u])
        factors.append(((("__exo__", u),), scm.exogenous[u]))
    return factors, card


def counterfactual(model: Any, variables: str | Sequence[Hashable], do: Mapping,
                   evidence: Mapping | None = None, *, evidence_do: Mapping | None = None,
                   parameterisation: str = "comonotone"):
    """``P(variables_{do} | evidence)``: the query variables in the world where ``do`` is
    imposed, given ``evidence`` observed in the factual world (or in the world of
    ``evidence_do``), e.g. ``counterfactual(bn, "click", {"exposure": 0}, {"exposure": 1,
    "click": 1})`` is the probability the user would (not) have clicked without the exposure.

    ``model`` is a :class:`DiscreteSCM`, or a fitted network turned into one under
    ``parameterisation`` (the assumption; see the module docstring). Returns a
    :class:`pgmpy.factors.discrete.DiscreteFactor` over ``variables``.
    """
    from pgmpy.factors.discrete import DiscreteFactor

    scm = as_scm(model, parameterisation)
    variables = [variables] if isinstance(variables, str) else list(variables)
    if not variables:
        raise ValueError("counterfactual needs at least one query variable")
    for v in variables:
        scm.check_variable(v, "counterfactual query")
    if not do:
        raise ValueError("counterfactual needs an intervention do={node: state}")
    worlds = [dict(evidence_do or {}), dict(do)]
    values = multi_world_query(scm, worlds, [(1, v) for v in variables],
                               [(0, v, s) for v, s in (evidence or {}).items()])
    return DiscreteFactor(variables, [scm.card[v] for v in variables], values,
                          state_names={v: scm.states[v] for v in variables})
