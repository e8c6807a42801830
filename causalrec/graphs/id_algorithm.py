"""General identification of ``P(y | do(x))``: the ID algorithm (Shpitser & Pearl 2006,
"Identification of joint interventional distributions in recursive semi-Markovian causal
models", AAAI; Tian & Pearl 2002 for the C-component factorisation).

A graph with latent variables is first projected onto its observed nodes (Verma 1993; Tian &
Pearl 2002): ``a -> b`` when a directed path from ``a`` to ``b`` runs through latent nodes only,
``a <-> b`` when a latent node reaches both through latent nodes only. :func:`id_identify`
runs the seven lines of ID on that ADMG and returns an :class:`IDEstimand` whose expression
(:mod:`causalrec.graphs.expressions`) reads as text or LaTeX and is evaluated from a fitted
network or an observed joint by :func:`id_query`. Where line 5 fails the effect is not
identifiable and :class:`HedgeError` (a :class:`NotIdentifiableError`) names the hedge: two
C-forests ``F' subset F`` with the same root set inside ``An(y)``, ``F`` meeting ``x`` and
``F'`` not (Shpitser & Pearl 2006, thm. 4).

This works on a small ADMG of its own (bidirected edges are not a :class:`GraphSpec`
concept); the spec is read through ``node_names``, ``latents`` and ``edges`` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .expressions import Prob, fraction, free_vars, marginal, product, render, summed
from .identification import NotIdentifiableError


class HedgeError(NotIdentifiableError):
    """``P(y | do(x))`` is not identifiable: ``hedge = (F, F_prime)`` witnesses it."""

    def __init__(self, message: str, hedge: tuple[frozenset, frozenset]) -> None:
        super().__init__(message)
        self.hedge = hedge


@dataclass(frozen=True)
class ADMG:
    """An acyclic directed mixed graph: ``order`` is a topological order of the nodes."""

    order: tuple
    directed: frozenset   # (a, b) pairs
    bidirected: frozenset  # frozenset({a, b}) pairs

    @classmethod
    def build(cls, nodes: Sequence, directed: Iterable, bidirected: Iterable = ()) -> ADMG:
        nodes = list(nodes)
        directed = frozenset((a, b) for a, b in directed)
        bi = frozenset(frozenset(p) for p in bidirected)
        for edge in [*directed, *(tuple(p) for p in bi)]:
            for end in edge:
                if end not in nodes:
                    raise ValueError(f"edge {tuple(edge)} names {end!r}, which is not a node")
        for p in bi:
            if len(p) != 2:
                raise ValueError(f"bidirected edge {set(p)} must join two distinct nodes")
        return cls(tuple(_topological(nodes, directed)), directed, bi)

    @classmethod
    def from_spec(cls, spec: Any) -> ADMG:
        """The latent projection of a :class:`GraphSpec` onto its observed nodes."""
        latents = set(spec.latents)
        children: dict = {n: [] for n in spec.node_names}
        for a, b in spec.edges:
            children[a].append(b)

        def observed_reach(start) -> set:  # observed nodes reached via latent-only paths
            out, todo, seen = set(), list(children[start]), set()
            while todo:
                v = todo.pop()
                if v in seen:
                    continue
                seen.add(v)
                if v in latents:
                    todo.extend(children[v])
                else:
                    out.add(v)
            return out

        obs = [n for n in spec.node_names if n not in latents]
        directed = {(a, b) for a in obs for b in observed_reach(a)}
        bi = set()
        for lat in latents:
            reach = sorted(observed_reach(lat), key=str)
            bi |= {frozenset((a, b)) for i, a in enumerate(reach) for b in reach[i + 1:]}
        return cls.build(obs, directed, bi)

    @property
    def nodes(self) -> frozenset:
        return frozenset(self.order)

    def parents(self, v) -> set:
        return {a for a, b in self.directed if b == v}

    def subgraph(self, keep) -> ADMG:
        keep = frozenset(keep)
        return ADMG(tuple(v for v in self.order if v in keep),
                    frozenset(e for e in self.directed if e[0] in keep and e[1] in keep),
                    frozenset(p for p in self.bidirected if p <= keep))

    def cut_incoming(self, xs) -> ADMG:
        """``G_{bar X}``: edges into ``xs`` removed (directed and bidirected)."""
        xs = set(xs)
        return ADMG(self.order, frozenset(e for e in self.directed if e[1] not in xs),
                    frozenset(p for p in self.bidirected if not p & xs))

    def ancestors(self, ys) -> frozenset:
        """Ancestors of ``ys``, ``ys`` included."""
        out, todo = set(ys), list(ys)
        while todo:
            v = todo.pop()
            for p in self.parents(v):
                if p not in out:
                    out.add(p)
                    todo.append(p)
        return frozenset(out)

    def c_components(self) -> list[frozenset]:
        """Districts: connected components of the bidirected part, in topological order."""
        comp: dict = {}
        out = []
        for v in self.order:
            if v in comp:
                continue
            block, todo = {v}, [v]
            while todo:
                a = todo.pop()
                for p in self.bidirected:
                    if a in p:
                        (b,) = p - {a}
                        if b not in block:
                            block.add(b)
                            todo.append(b)
            for b in block:
                comp[b] = len(out)
            out.append(frozenset(block))
        return out


def _topological(nodes: list, directed: frozenset) -> list:
    indeg = dict.fromkeys(nodes, 0)
    for _, b in directed:
        indeg[b] += 1
    ready = [n for n in nodes if indeg[n] == 0]
    out = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for a, b in directed:
            if a == n:
                indeg[b] -= 1
                if indeg[b] == 0:
                    ready.append(b)
    if len(out) != len(nodes):
        raise ValueError(f"the directed edges have a cycle among {set(nodes) - set(out)}")
    return out


# ---------------------------------------------------------------------------- the algorithm
class _Dist:
    """An expression together with the variables it is a distribution of."""

    def __init__(self, expr, scope) -> None:
        self.expr, self.scope = expr, frozenset(scope)


def _cond(p: _Dist, v, pred: list) -> object:
    if isinstance(p.expr, Prob) and p.expr.vars == p.scope:
        return Prob(frozenset({v}), frozenset(pred) | p.expr.given)
    keep_num = (free_vars(p.expr) - p.scope) | set(pred) | {v}
    keep_den = (free_vars(p.expr) - p.scope) | set(pred)
    return fraction(marginal(p.expr, keep_num), marginal(p.expr, keep_den))


def _marg(p: _Dist, keep) -> _Dist:
    keep = frozenset(keep)
    drop = p.scope - keep
    if not drop:
        return p
    return _Dist(marginal(p.expr, free_vars(p.expr) - drop), p.scope & keep)


def _id(y: frozenset, x: frozenset, p: _Dist, g: ADMG) -> object:
    v = g.nodes
    if not x:                                                        # line 1
        return _marg(p, y).expr
    an = g.ancestors(y)
    if v != an:                                                      # line 2
        return _id(y, x & an, _marg(p, an), g.subgraph(an))
    w = (v - x) - g.cut_incoming(x).ancestors(y)
    if w:                                                            # line 3
        return _id(y, x | w, p, g)
    comps = g.subgraph(v - x).c_components()
    if len(comps) > 1:                                               # line 4
        terms = [_id(s, v - s, p, g) for s in comps]
        return summed(v - (y | x), product(terms))
    s = comps[0]
    g_comps = g.c_components()
    if g_comps == [v]:                                               # line 5
        raise HedgeError(
            f"P({_fmt(y)} | do({_fmt(x)})) is not identifiable: hedge F = {{{_fmt(v)}}}, "
            f"F' = {{{_fmt(s)}}} (two C-forests rooted in the ancestors of y; F meets "
            f"do({_fmt(x & v)}), F' does not)", (v, s))
    order = list(g.order)
    if s in g_comps:                                                 # line 6
        terms = [_cond(p, vi, order[:order.index(vi)]) for vi in order if vi in s]
        return summed(s - y, product(terms))
    big = next(c for c in g_comps if s < c)                          # line 7
    terms = [_cond(p, vi, order[:order.index(vi)]) for vi in order if vi in big]
    return _id(y, x & big, _Dist(product(terms), big), g.subgraph(big))


def _fmt(vs) -> str:
    return ", ".join(sorted(map(str, vs)))


@dataclass(frozen=True)
class IDEstimand:
    """``P(outcome | do(treatment))`` as an expression over observed marginals."""

    outcome: tuple
    treatment: tuple
    expression: object

    @property
    def text(self) -> str:
        return render(self.expression, taken=frozenset(self.outcome) | set(self.treatment))

    @property
    def latex(self) -> str:
        return render(self.expression, latex=True,
                      taken=frozenset(self.outcome) | set(self.treatment))

    @property
    def formula(self) -> str:
        return f"P({_fmt(self.outcome)} | do({_fmt(self.treatment)})) = {self.text}"

    def __str__(self) -> str:
        return f"id: {self.formula}"

    def _repr_latex_(self) -> str:
        return (f"$P({_fmt(self.outcome)} \\mid do({_fmt(self.treatment)})) = "
                f"{self.latex}$")


def id_identify(graph: Any, outcome: str | Sequence, treatment: str | Sequence) -> IDEstimand:
    """Run ID for ``P(outcome | do(treatment))`` on a :class:`GraphSpec` (latent nodes are
    projected out) or an :class:`ADMG`. Raises :class:`HedgeError` when not identifiable,
    ``ValueError`` for a latent or unknown node or overlapping sets."""
    g = graph if isinstance(graph, ADMG) else ADMG.from_spec(graph)
    ys = (outcome,) if isinstance(outcome, str) else tuple(outcome)
    xs = (treatment,) if isinstance(treatment, str) else tuple(treatment)
    latent = set(getattr(graph, "latents", ()))
    for role, vs in (("outcome", ys), ("treatment", xs)):
        if not vs:
            raise ValueError(f"id_identify needs at least one {role} variable")
        for v in vs:
            if v in latent:
                raise ValueError(f"{role} {v!r} is latent: only observed nodes can be queried")
            if v not in g.nodes:
                raise ValueError(f"{role} {v!r} is not a node of the graph "
                                 f"(observed nodes: {_fmt(g.nodes)})")
    if set(ys) & set(xs):
        raise ValueError(f"outcome and treatment overlap: {sorted(set(ys) & set(xs))}")
    v = g.nodes
    expr = _id(frozenset(ys), frozenset(xs), _Dist(Prob(v), v), g)
    extra = free_vars(expr) - set(ys) - set(xs)
    if extra:
        # line 3 intervened on w as well: P_x(y) = P_{x,w}(y) for every w, so any average
        # over w is the answer; averaging with P(w) gives a closed formula in x and y only
        expr = summed(extra, product([Prob(frozenset(extra)), expr]))
    return IDEstimand(ys, xs, expr)


def _marginals_from(model: Any):
    """``(marginal_of, states)`` for a fitted network, a prepared network, or a
    :class:`~pgmpy.factors.discrete.DiscreteFactor` joint over the observed variables."""
    from pgmpy.factors.discrete import DiscreteFactor

    if isinstance(model, DiscreteFactor):
        joint = model.values / model.values.sum()
        names = list(model.variables)
        states = {v: list(model.state_names[v]) for v in names}

        def from_joint(vs):
            missing = [v for v in vs if v not in names]
            if missing:
                raise ValueError(f"the joint distribution has no variable(s) {missing}")
            arr = joint.sum(axis=tuple(i for i, n in enumerate(names) if n not in vs))
            kept = [n for n in names if n in vs]
            return np.transpose(arr, [kept.index(v) for v in vs])

        return from_joint, states
    from .interventions import do_query, network

    net = network(model)
    return (lambda vs: do_query(net, list(vs)).values), dict(net.states)


def id_query(model: Any, estimand: IDEstimand, do: Mapping) -> Any:
    """Evaluate an identified ``P(outcome | do(treatment = do))`` from ``model`` (a fitted
    network, latent nodes summed out, or a joint over the observed variables). Returns a
    :class:`~pgmpy.factors.discrete.DiscreteFactor` over the outcome variables."""
    from pgmpy.factors.discrete import DiscreteFactor

    from .expressions import evaluate_at

    marginal_of, states = _marginals_from(model)
    if set(do) != set(estimand.treatment):
        raise ValueError(f"do must set exactly {list(estimand.treatment)}, got {list(do)}")
    fixed = {}
    for var, val in do.items():
        if var not in states:
            raise ValueError(f"do names {var!r}, which is not a variable of the model")
        if val not in states[var]:
            raise ValueError(f"do: {val!r} is not a state of {var!r} (states: {states[var]})")
        fixed[var] = states[var].index(val)
    ys = list(estimand.outcome)
    card = {v: len(s) for v, s in states.items()}
    arr = evaluate_at(estimand.expression, marginal_of, ys, fixed, card)
    return DiscreteFactor(ys, [card[v] for v in ys], arr, state_names={v: states[v] for v in ys})
