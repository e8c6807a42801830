"""The structural equations of the recommendation simulator, evaluated row by row in NumPy.

Every non-root node ``v`` of the declared graph has an ordered-logit equation over its states
(logistic for binary nodes; McCullagh 1980, "Regression Models for Ordinal Data"):

    eta_v = b_v + sum_p w_pv * x_p + h * x_T * (x_intent - 1/2) + pref terms,
    P(v <= k | parents) = sigmoid(c_vk - eta_v),

where ``x_p = state_index / (n_states - 1)`` scales every parent to [0, 1] (so ``w_pv`` is the
log-odds shift from a parent's lowest to its highest state), ``h`` makes the effect of the
treatment ``T`` heterogeneous across intents (only on nodes that have both as parents), and
the user-item *preference* (the user's mixture weight on the item's topic, an exogenous
cause) enters exactly one node - ``click`` when the graph has one, else the outcome - and
modifies the treatment's effect there. Parents are exactly the graph's parents, so the graph
is a faithful description of the data (Pearl 2009, "Causality", ch. 1.4: a structural causal
model induces its DAG).

Sampling uses one uniform draw per node and row; potential outcomes re-evaluate the
treatment's descendants with the same draws (so y0 and y1 are counterfactually coupled), and
expected potential outcomes are exact sums over the states of the nodes in between.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from ..graphs.spec import GraphSpec


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _logit(p) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


@dataclass
class Equation:
    node: str
    n_states: int
    parents: list[str]
    weights: dict[str, float]
    heterogeneity: float = 0.0          # weight of x_T * (x_intent - 1/2)
    preference: float = 0.0             # weight of the centred preference
    preference_effect: float = 0.0      # weight of x_T * centred preference
    bias: float = 0.0
    cutpoints: np.ndarray = field(default_factory=lambda: np.zeros(1))
    constant: np.ndarray | None = None  # a fixed distribution (a randomized treatment)


class StructuralModel:
    """The fitted-once equations of one simulated world (see the module docstring)."""

    def __init__(self, graph: GraphSpec, equations: dict[str, Equation], pref_node: str | None,
                 pref_center: float):
        self.graph = graph
        self.eq = equations
        self.pref_node = pref_node
        self.pref_center = pref_center
        self.scale = {nd.name: 1.0 / (nd.cardinality - 1) for nd in graph.nodes}

    # ---------------------------------------------------------------- one node
    def _eta(self, node: str, vals: dict[str, np.ndarray], pref: np.ndarray | None,
             n: int) -> np.ndarray:
        e = self.eq[node]
        t = self.graph.treatment
        eta = np.full(n, e.bias)
        for p in e.parents:
            w = e.weights[p]
            if w:
                eta = eta + w * self.scale[p] * np.asarray(vals[p], dtype=float)
        if e.heterogeneity:
            eta = eta + e.heterogeneity * (self.scale[t] * np.asarray(vals[t], float)) * (
                self.scale["intent"] * np.asarray(vals["intent"], float) - 0.5)
        if node == self.pref_node and pref is not None:
            c = pref - self.pref_center
            if e.preference:
                eta = eta + e.preference * c
            if e.preference_effect:
                eta = eta + e.preference_effect * (self.scale[t] * np.asarray(vals[t], float)) * c
        return eta

    def probs(self, node: str, vals: dict[str, np.ndarray], pref: np.ndarray | None,
              n: int, policy: dict | None = None) -> np.ndarray:
        """P(node = k | parents) as an [n, n_states] array."""
        e = self.eq[node]
        if policy and node in policy:
            p1 = np.asarray(policy[node], dtype=np.float64)
            if p1.ndim == 0:  # one propensity for every row (a randomized policy)
                return np.tile(np.array([1.0 - float(p1), float(p1)]), (n, 1))
            return np.stack([1.0 - p1, p1], axis=1)  # a deployed policy's per-row propensities
        if e.constant is not None:
            return np.tile(e.constant, (n, 1))
        eta = self._eta(node, vals, pref, n)
        cdf = _sigmoid(e.cutpoints[None, :] - eta[:, None])        # [n, k-1]
        out = np.empty((n, e.n_states))
        out[:, 0] = cdf[:, 0]
        out[:, 1:-1] = np.diff(cdf, axis=1)
        out[:, -1] = 1.0 - cdf[:, -1]
        return out

    @staticmethod
    def draw(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
        """State indices from probabilities and uniforms (monotone in u: coupling-friendly)."""
        cdf = np.cumsum(probs[:, :-1], axis=1)
        return (u[:, None] >= cdf).sum(axis=1).astype(np.int16)

    # ---------------------------------------------------------------- expectations
    def expect(self, target: str, known: dict[str, np.ndarray], do: dict[str, int],
               pref: np.ndarray | None, n: int, mediator_do: dict[str, int] | None = None,
               value: np.ndarray | None = None) -> np.ndarray:
        """E[target | do(...), known] per row, summing exactly over the unknown ancestors.

        ``mediator_do`` (for natural direct/indirect effects, Pearl 2001) sets the intervened
        value seen by the enumerated nodes, while ``do`` is what the target itself sees: e.g.
        ``do={T: 1}, mediator_do={T: 0}`` gives E[Y(1, M(0))].
        """
        g = self.graph
        vals_t = np.asarray(value if value is not None else
                            g[target].numeric_states(), dtype=float)
        if target in do:
            return np.full(n, vals_t[do[target]])
        anc = g.ancestors(target)
        free = [v for v in g.order if v in anc and v not in known and v not in do]
        base = {**known, **{k: np.full(n, v, dtype=np.int16) for k, v in do.items()}}
        med = {**base, **{k: np.full(n, v, dtype=np.int16)
                          for k, v in (mediator_do or {}).items()}}
        total = np.zeros(n)
        state_lists = [range(g[v].cardinality) for v in free]
        for combo in itertools.product(*state_lists):
            w = np.ones(n)
            cur = dict(med)
            for v, s in zip(free, combo):
                w = w * self.probs(v, cur, pref, n)[:, s]
                cur[v] = np.full(n, s, dtype=np.int16)
            tv = dict(base)
            tv.update({v: cur[v] for v in free})
            total += w * (self.probs(target, tv, pref, n) @ vals_t)
        return total
