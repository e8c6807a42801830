"""Probability expressions: the estimands the ID algorithm returns, readable and computable.

An expression is built from four pieces, each a frozen dataclass:

- :class:`Prob` ``P(A | B)`` of the observational distribution of the observed variables;
- :class:`Product` of expressions;
- :class:`Sum` of an expression over some variables (a summed variable is bound: it may
  shadow a free variable of the same name outside, as in the frontdoor formula
  ``sum_z P(z | x) sum_x' P(y | x', z) P(x')``, where the renderer primes it);
- :class:`Fraction` of two expressions.

:func:`render` writes one as text or LaTeX; :func:`evaluate` computes it as a table over its
free variables from any source of observational marginals (a fitted network through
:func:`~causalrec.graphs.do_query`, or a joint distribution over the observed variables).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prob:
    """``P(vars | given)`` of the observational distribution."""

    vars: frozenset
    given: frozenset = frozenset()


@dataclass(frozen=True)
class Product:
    terms: tuple


@dataclass(frozen=True)
class Sum:
    over: frozenset
    expr: object


@dataclass(frozen=True)
class Fraction:
    num: object
    den: object


ONE = Product(())


def free_vars(e) -> frozenset:
    """Variables the expression is a function of."""
    if isinstance(e, Prob):
        return e.vars | e.given
    if isinstance(e, Product):
        return frozenset().union(*(free_vars(t) for t in e.terms))
    if isinstance(e, Sum):
        return free_vars(e.expr) - e.over
    return free_vars(e.num) | free_vars(e.den)


def product(terms: Sequence) -> object:
    """A product with nested products flattened and ones dropped."""
    flat = []
    for t in terms:
        if isinstance(t, Product):
            flat.extend(t.terms)
        else:
            flat.append(t)
    return flat[0] if len(flat) == 1 else Product(tuple(flat))


def summed(over, e) -> object:
    """``sum_over e``, dropping variables ``e`` does not depend on (they would only add a
    constant factor when they are fully determined, which the ID algorithm never asks)."""
    over = frozenset(over) & free_vars(e)
    if not over:
        return e
    return marginal(e, free_vars(e) - over)


def marginal(e, keep) -> object:
    """``sum_{free(e) - keep} e`` for a (conditional) distribution ``e`` over its head
    variables: a head variable that no other term mentions is summed out of its own term."""
    keep = frozenset(keep)
    drop = set(free_vars(e) - keep)
    if not drop:
        return e
    if isinstance(e, Sum):  # sum_a sum_b f = sum_b sum_a f: push the new sum inside
        return Sum(e.over, marginal(e.expr, free_vars(e.expr) - drop))
    terms = list(e.terms) if isinstance(e, Product) else [e]
    changed = True
    while changed and drop:
        changed = False
        for v in sorted(drop, key=str):
            holders = [i for i, t in enumerate(terms) if v in free_vars(t)]
            if len(holders) != 1:
                continue
            t = terms[holders[0]]
            if isinstance(t, Prob) and v in t.vars:
                rest = t.vars - {v}
                if rest:
                    terms[holders[0]] = Prob(rest, t.given)
                else:
                    del terms[holders[0]]
                drop.discard(v)
                changed = True
                break
    body = product(terms)
    drop &= set(free_vars(body))
    return Sum(frozenset(drop), body) if drop else body


def fraction(num, den) -> object:
    """``num / den`` with common product terms cancelled."""
    nt = list(num.terms) if isinstance(num, Product) else [num]
    dt = list(den.terms) if isinstance(den, Product) else [den]
    for t in list(dt):
        if t in nt:
            nt.remove(t)
            dt.remove(t)
    if not dt:
        return product(nt)
    return Fraction(product(nt), product(dt))


# ---------------------------------------------------------------------------- rendering
def _names(vs, rename) -> list[str]:
    return sorted(rename.get(v, str(v)) for v in vs)


def render(e, latex: bool = False, taken: frozenset | None = None, rename=None) -> str:
    """Text (``P(y | x, z)``, ``sum_{z}``) or LaTeX (``P(y \\mid x, z)``, ``\\sum_{z}``)."""
    rename = dict(rename or {})
    taken = set(free_vars(e) if taken is None else taken)
    if isinstance(e, Prob):
        head = ", ".join(_names(e.vars, rename))
        if not e.given:
            return f"P({head})"
        bar = " \\mid " if latex else " | "
        return f"P({head}{bar}{', '.join(_names(e.given, rename))})"
    if isinstance(e, Product):
        if not e.terms:
            return "1"
        parts = [render(t, latex, taken, rename) for t in e.terms]
        parts = [f"[{p}]" if isinstance(t, Sum | Fraction) and not latex else p
                 for t, p in zip(e.terms, parts)]
        return (" " if latex else " ").join(parts)
    if isinstance(e, Sum):
        inner = dict(rename)
        for v in sorted(e.over, key=str):
            name = str(v)
            while name in taken:
                name += "'"
            inner[v] = name
            taken.add(name)
        idx = ", ".join(_names(e.over, inner))
        body = render(e.expr, latex, taken, inner)
        return f"\\sum_{{{idx}}} {body}" if latex else f"sum_{{{idx}}} {body}"
    num = render(e.num, latex, taken, rename)
    den = render(e.den, latex, taken, rename)
    return f"\\frac{{{num}}}{{{den}}}" if latex else f"({num}) / ({den})"


# ---------------------------------------------------------------------------- evaluation
Table = tuple[tuple, np.ndarray]


def _broadcast(t: Table, scope: Sequence) -> np.ndarray:
    sc, arr = t
    order = [sc.index(v) for v in scope if v in sc]
    arr = np.transpose(arr, order) if order else arr
    shape = [arr.shape[order.index(sc.index(v))] if v in sc else 1 for v in scope]
    return arr.reshape(shape)


def evaluate(e, marginal_of: Callable[[tuple], np.ndarray]) -> Table:
    """``(scope, table)`` of the expression; ``marginal_of(vars)`` returns the observational
    joint of ``vars`` as an array with axes in that order (``()`` gives 1)."""
    cache: dict = {}

    def marg(vs: tuple) -> np.ndarray:
        if vs not in cache:
            cache[vs] = np.asarray(marginal_of(vs), dtype=float) if vs else np.array(1.0)
        return cache[vs]

    def ev(x) -> Table:
        if isinstance(x, Prob):
            scope = tuple(sorted(x.vars | x.given, key=str))
            given = tuple(sorted(x.given, key=str))
            joint = marg(scope)
            den = _broadcast((given, marg(given)), scope)
            with np.errstate(invalid="ignore", divide="ignore"):
                return scope, np.where(den > 0, joint / np.where(den > 0, den, 1.0), 0.0)
        if isinstance(x, Product):
            parts = [ev(t) for t in x.terms]
            scope = tuple(dict.fromkeys(v for s, _ in parts for v in s))
            out = np.ones([1] * len(scope))
            for p in parts:
                out = out * _broadcast(p, scope)
            return scope, out
        if isinstance(x, Sum):
            scope, arr = ev(x.expr)
            axes = tuple(i for i, v in enumerate(scope) if v in x.over)
            return tuple(v for v in scope if v not in x.over), arr.sum(axis=axes)
        ns, na = ev(x.num)
        ds, da = ev(x.den)
        scope = tuple(dict.fromkeys(ns + ds))
        num, den = _broadcast((ns, na), scope), _broadcast((ds, da), scope)
        with np.errstate(invalid="ignore", divide="ignore"):
            return scope, np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)

    scope, arr = ev(e)
    full = [v for v in scope]
    return tuple(full), np.asarray(arr, dtype=float)


def evaluate_at(e, marginal_of: Callable[[tuple], np.ndarray], variables: Sequence[Hashable],
                fixed: dict[Hashable, int], card: dict[Hashable, int]) -> np.ndarray:
    """The expression as an array over ``variables`` with the other free variables set to the
    state indices ``fixed`` (a variable the expression does not depend on is broadcast)."""
    scope, arr = evaluate(e, marginal_of)
    missing = [v for v in scope if v not in variables and v not in fixed]
    if missing:
        raise ValueError(f"the expression depends on {missing}, which are neither query "
                         "variables nor fixed")
    index = tuple(fixed[v] if v in fixed else slice(None) for v in scope)
    arr = arr[index]
    kept = tuple(v for v in scope if v not in fixed)
    out = _broadcast((kept, arr), list(variables))
    return np.broadcast_to(out, [card[v] for v in variables]).copy()
