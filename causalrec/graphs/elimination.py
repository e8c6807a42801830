"""Sum-product variable elimination on plain NumPy tables.

The engine behind :func:`causalrec.graphs.do_query`: factors are ``(scope, ndarray)`` pairs
(one axis per variable of the scope), variables are eliminated one at a time in a greedy
min-weight order (the variable whose elimination creates the smallest table goes first), and
each step is one :func:`numpy.einsum` over the factors that mention the variable.

Before eliminating, factors that share no variable (directly or through other factors) with
the kept variables are split off: they only contribute a constant, which is computed
separately so impossible evidence is still detected.

References: Zhang & Poole 1994, "A simple approach to Bayesian network computations";
Dechter 1999, "Bucket elimination: a unifying framework for reasoning"; Koller & Friedman
2009, *Probabilistic Graphical Models*, ch. 9 (elimination orderings, 9.4.3).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

Factor = tuple[tuple[Hashable, ...], np.ndarray]
#: joint-table size up to which a multi-factor product is one unplanned einsum
SMALL_BUCKET = 100_000


def _contract(factors: Sequence[Factor], out_scope: Sequence[Hashable]) -> np.ndarray:
    """Multiply ``factors`` and sum out every variable not in ``out_scope`` (one einsum)."""
    labels: dict[Hashable, int] = {}
    operands: list = []
    for scope, table in factors:
        operands.append(table)
        operands.append([labels.setdefault(v, len(labels)) for v in scope])
    for v in out_scope:
        labels.setdefault(v, len(labels))
    if len(labels) > 52:  # numpy.einsum's label limit
        raise ValueError(f"an elimination step spans {len(labels)} variables; the network is too "
                         "densely connected for exact elimination")
    operands.append([labels[v] for v in out_scope])
    if len(factors) > 2:
        size = 1
        for shape in {v: d for (scope, table) in factors for v, d in zip(scope, table.shape)
                      }.values():
            size *= shape
        # a small bucket is one C loop over its joint table; planning a contraction order
        # (einsum_path, pure Python) costs more than it saves below ~10^5 entries
        if size > SMALL_BUCKET:
            return np.einsum(*operands, optimize="greedy")
    return np.einsum(*operands)


def _components(factors: Sequence[Factor]) -> list[list[int]]:
    """Groups of factor indices connected through shared variables (union-find)."""
    parent = list(range(len(factors)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[Hashable, int] = {}
    for i, (scope, _) in enumerate(factors):
        for v in scope:
            if v in owner:
                a, b = find(i), find(owner[v])
                if a != b:
                    parent[a] = b
            else:
                owner[v] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(factors)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _eliminate_all_but(factors: list[Factor], keep: Sequence[Hashable],
                       card: dict[Hashable, int]) -> np.ndarray:
    """Sum out every variable not in ``keep`` (greedy min-weight order); return the table over
    ``keep`` (in that order)."""
    keep_set = set(keep)
    factors = list(factors)
    by_var: dict[Hashable, set[int]] = {}
    for i, (scope, _) in enumerate(factors):
        for v in scope:
            by_var.setdefault(v, set()).add(i)
    alive = set(range(len(factors)))
    to_eliminate = {v for v in by_var if v not in keep_set}

    def weight(v: Hashable) -> tuple[int, set]:
        scope: set = set()
        for i in by_var[v]:
            scope.update(factors[i][0])
        cost = 1
        for u in scope:
            cost *= card[u]
        return cost, scope

    # each variable's weight changes only when one of its factors is replaced, i.e. when a
    # neighbour is eliminated: recompute those, not every weight at every step
    weights = {v: weight(v) for v in to_eliminate}
    while to_eliminate:
        best = min(to_eliminate, key=lambda v: weights[v][0])
        best_scope = weights.pop(best)[1]
        idx = by_var.pop(best)
        to_eliminate.discard(best)
        out_scope = tuple(u for u in best_scope if u != best)
        table = _contract([factors[i] for i in idx], out_scope)
        new_id = len(factors)
        factors.append((out_scope, table))
        alive.difference_update(idx)
        alive.add(new_id)
        for u in out_scope:
            s = by_var[u]
            s.difference_update(idx)
            s.add(new_id)
        for u in out_scope:
            if u in weights:
                weights[u] = weight(u)
    remaining = [factors[i] for i in sorted(alive)]
    if not remaining:
        return np.ones([card[v] for v in keep])
    table = _contract(remaining, [v for v in keep if v in by_var])
    missing = [v for v in keep if v not in by_var]
    if missing:  # kept variables no factor mentions: constant along their axes
        present = [v for v in keep if v in by_var]
        table = table.reshape(table.shape + (1,) * len(missing))
        order = present + missing
        table = np.moveaxis(table, list(range(len(order))), [list(keep).index(v) for v in order])
        table = np.broadcast_to(table, [card[v] for v in keep]).copy()
    return table


def eliminate(factors: Sequence[Factor], keep: Sequence[Hashable],
              card: dict[Hashable, int]) -> tuple[np.ndarray, float]:
    """Unnormalised marginal over ``keep`` of the product of ``factors``.

    Returns ``(table, constant)``: ``table`` (axes in ``keep`` order) is the sum-product over
    the factors connected to ``keep``; ``constant`` is the product of the sums of the other,
    disconnected groups (so the full sum-product is ``table * constant``).
    """
    factors = [(tuple(s), np.asarray(t)) for s, t in factors]
    keep = list(keep)
    keep_set = set(keep)
    constant = 1.0
    connected: list[Factor] = []
    for group in _components(factors):
        members = [factors[i] for i in group]
        if any(v in keep_set for s, _ in members for v in s):
            connected.extend(members)
        else:
            constant *= float(_eliminate_all_but(members, [], card))
    return _eliminate_all_but(connected, keep, card), constant
