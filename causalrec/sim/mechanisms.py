"""The simulator's options and how they set the structural equations' weights and rates.

Options come, in increasing precedence, from :data:`DEFAULTS`, the graph's ``mechanisms:``
section and the keyword arguments of :func:`causalrec.sim.simulate`.
:func:`resolve_options` merges them and refuses a bad value with a ``ValueError`` (or a
``TypeError`` for an unknown option) naming the option and the value, before anything is
drawn; :func:`resolve_weights` and :func:`resolve_rates` turn the merged options into one
weight per graph edge and one target marginal per node, refusing any that the graph cannot
carry (:class:`~causalrec.graphs.GraphValidationError`): the graph is the truth, the
simulator never adds an arrow to it nor quietly rescales a distribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

from ..graphs.spec import GraphSpec, GraphValidationError

#: default edge weights (log-odds shift from a parent's lowest to highest state); the
#: treatment is looked up under its own name and then as "exposure"; anything else is 1.0
DEFAULT_WEIGHTS: dict[tuple[str, str], float] = {
    ("intent", "exposure"): 1.5, ("popularity", "exposure"): 2.0,
    ("interest", "exposure"): 1.5, ("conformity", "exposure"): 1.0,
    ("intent", "click"): 1.5, ("popularity", "click"): 1.0, ("exposure", "click"): 1.0,
    ("interest", "click"): 2.0, ("conformity", "click"): 1.0, ("popularity", "conformity"): 2.0,
    ("click", "purchase"): 3.0, ("exposure", "purchase"): 0.5, ("intent", "purchase"): 1.0,
    ("browse", "purchase"): 2.0, ("purchase", "rating"): 1.5, ("intent", "rating"): 1.5,
    ("click", "rating"): 0.5,
}
#: default marginal rates of binary nodes (the bias is set so the logged mean is near these)
DEFAULT_RATES = {"exposure": 0.3, "click": 0.15, "purchase": 0.08, "browse": 0.3,
                 "conformity": 0.3}
#: default marginal distribution of 5-state nodes (ratings)
DEFAULT_ORDINAL = {5: (0.1, 0.15, 0.25, 0.3, 0.2)}
#: how far an ordinal distribution's sum may be from 1
SUM_TOLERANCE = 1e-6

#: named knobs that set one edge's weight: knob -> (source, target); "T" is the treatment
KNOB_EDGES = {
    "popularity_bias": ("popularity", "T"),
    "intent_bias": ("intent", "T"),
    "exposure_effect": ("T", "click|outcome"),
    "direct_effect": ("T", "outcome"),
}

DEFAULTS: dict[str, Any] = dict(
    n_users=2000, n_items=500, per_user=20, n_topics=None, intent_purity=0.8,
    intent_concentration=10.0, zipf_exponent=1.0, candidate_intent=0.5, confounding=1.0,
    popularity_bias=None, intent_bias=None, exposure_effect=None, direct_effect=None,
    edge_weights=None, rates=None, effect_heterogeneity=None, preference_weight=1.5,
    preference_effect=1.0, text_noise=0.2, user_sentences=6, item_text_noise=None,
    randomized_users=0.1, randomized_per_user=None, randomized_propensity=0.5, seed=0,
)

#: option -> (kind, low, high, low_open, high_open, may_be_none); kind "int" or "real"
_RANGES: dict[str, tuple] = {
    "n_users": ("int", 1, None, False, False, False),
    "n_items": ("int", 2, None, False, False, False),
    "per_user": ("int", 1, None, False, False, False),
    "n_topics": ("int", 2, None, False, False, True),
    "intent_purity": ("real", 0.0, 1.0, False, False, False),
    "intent_concentration": ("real", 0.0, None, False, False, False),
    "zipf_exponent": ("real", 0.0, None, False, False, False),
    "candidate_intent": ("real", 0.0, 1.0, False, False, False),
    "confounding": ("real", 0.0, None, False, False, False),
    "popularity_bias": ("real", None, None, False, False, True),
    "intent_bias": ("real", None, None, False, False, True),
    "exposure_effect": ("real", None, None, False, False, True),
    "direct_effect": ("real", None, None, False, False, True),
    "effect_heterogeneity": ("real", None, None, False, False, True),
    "preference_weight": ("real", None, None, False, False, False),
    "preference_effect": ("real", None, None, False, False, False),
    "text_noise": ("real", 0.0, 1.0, False, False, False),
    "item_text_noise": ("real", 0.0, 1.0, False, False, True),
    "user_sentences": ("int", 1, None, False, False, False),
    "randomized_users": ("real", 0.0, 1.0, False, False, False),
    "randomized_per_user": ("int", 1, None, False, False, True),
    "randomized_propensity": ("real", 0.0, 1.0, True, True, False),
    "seed": ("int", 0, None, False, False, False),
}


def _check_number(name: str, value: Any, where: str) -> None:
    kind, lo, hi, lo_open, hi_open, none_ok = _RANGES[name]
    if value is None:
        if none_ok:
            return
        raise ValueError(f"{where}option {name!r} must be given, got None")
    is_int = isinstance(value, Integral) and not isinstance(value, bool)
    if kind == "int" and not is_int:
        raise ValueError(f"{where}option {name!r} must be an integer, got "
                         f"{type(value).__name__} {value!r}")
    if kind == "real" and not (isinstance(value, Real) and not isinstance(value, bool)):
        raise ValueError(f"{where}option {name!r} must be a number, got "
                         f"{type(value).__name__} {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{where}option {name!r} must be finite, got {value!r}")
    too_low = lo is not None and (value <= lo if lo_open else value < lo)
    too_high = hi is not None and (value >= hi if hi_open else value > hi)
    if too_low or too_high:
        lb = "any" if lo is None else f"{'(' if lo_open else '['}{lo}"
        ub = "any" if hi is None else f"{hi}{')' if hi_open else ']'}"
        raise ValueError(f"{where}option {name!r} must lie in {lb}, {ub}, got {value!r}")


def resolve_options(g: GraphSpec, options: Mapping) -> dict[str, Any]:
    """Merge :data:`DEFAULTS`, the graph's ``mechanisms`` and ``options``; check each value."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown simulator options {sorted(unknown)}; valid: {sorted(DEFAULTS)}")
    bad_mech = set(g.mechanisms) - set(DEFAULTS)
    if bad_mech:
        raise GraphValidationError(f"graph {g.name!r} ({g.source}): unknown keys in mechanisms: "
                                   f"{sorted(map(str, bad_mech))} (valid: {sorted(DEFAULTS)})")
    opt = {**DEFAULTS, **g.mechanisms, **options}
    for name in _RANGES:
        where = (f"graph {g.name!r} ({g.source}) mechanisms: " if name in g.mechanisms
                 and name not in options else "simulator ")
        _check_number(name, opt[name], where)
    if opt["per_user"] > opt["n_items"]:
        raise ValueError(f"simulator option 'per_user' ({opt['per_user']}) exceeds 'n_items' "
                         f"({opt['n_items']})")
    for name in ("edge_weights", "rates"):
        if opt[name] is not None and not isinstance(opt[name], Mapping):
            raise ValueError(f"simulator option {name!r} must be a mapping, got "
                             f"{type(opt[name]).__name__} {opt[name]!r}")
    return opt


def _edge_key(key) -> tuple[str, str]:
    if isinstance(key, str):
        for sep in ("->", ","):
            if sep in key:
                a, b = key.split(sep, 1)
                return a.strip(), b.strip()
        raise ValueError(f"edge_weights key {key!r}: write an edge as 'source->target'")
    if isinstance(key, Sequence) and len(key) == 2:
        return str(key[0]), str(key[1])
    raise ValueError(f"edge_weights key {key!r}: write an edge as 'source->target'")


def _weight(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"simulator option {name} must be a finite number, got {value!r}")
    return float(value)


def resolve_weights(g: GraphSpec, opt: dict) -> dict[tuple[str, str], float]:
    """Edge weights from defaults, ``confounding``, the named knobs and ``edge_weights``.

    A knob or an ``edge_weights`` entry that sets a non-zero weight on an edge the graph does
    not have is refused: the graph is the truth, the simulator never adds arrows to it.
    """
    t = g.treatment
    where = f"graph {g.name!r} ({g.source})"
    w = {}
    for a, b in g.edges:
        alias = ("exposure" if a == t else a, "exposure" if b == t else b)
        w[(a, b)] = DEFAULT_WEIGHTS.get((a, b), DEFAULT_WEIGHTS.get(alias, 1.0))
    conf = float(opt["confounding"])
    for a, b in g.edges:
        if b == t:
            w[(a, b)] *= conf
    for knob, (src, dst) in KNOB_EDGES.items():
        val = opt.get(knob)
        if val is None:
            continue
        src = t if src == "T" else src
        if dst == "click|outcome":
            dst = "click" if "click" in g else g.outcome
        dst = {"T": t, "outcome": g.outcome}.get(dst, dst)
        if (src, dst) not in w:
            if float(val) == 0.0:
                continue
            raise GraphValidationError(
                f"{where}: mechanism {knob}={val} needs the edge [{src}, {dst}], which the "
                f"graph does not have (edges: {[list(e) for e in g.edges]})")
        w[(src, dst)] = float(val) * (conf if dst == t else 1.0)
    for key, val in (opt.get("edge_weights") or {}).items():
        e = _edge_key(key)
        val = _weight(f"edge_weights[{key!r}]", val)
        if e not in w:
            if val == 0.0:
                continue
            raise GraphValidationError(
                f"{where}: edge_weights sets [{e[0]}, {e[1]}] = {val}, but the graph has no such "
                f"edge (edges: {[list(x) for x in g.edges]})")
        w[e] = val
    return w


def resolve_rates(g: GraphSpec, opt: dict) -> dict[str, Any]:
    """Target marginal per node: :data:`DEFAULT_RATES` updated with ``opt["rates"]``.

    A binary node's rate must lie in (0, 1); a node with more states takes a distribution, one
    positive number per state summing to 1 (within :data:`SUM_TOLERANCE`; it is never
    rescaled). A rate for a node the graph lacks, or for a root the world generates, is
    refused naming the node.
    """
    where = f"graph {g.name!r} ({g.source})"
    given = opt.get("rates") or {}
    for key, val in given.items():
        node = g.treatment if key == "exposure" and "exposure" not in g else key
        if node not in g:
            raise GraphValidationError(f"{where}: rates[{key!r}] names no node of the graph "
                                       f"(nodes: {g.node_names})")
        if not g.parents(node) and node != g.treatment:
            raise GraphValidationError(f"{where}: rates[{key!r}]: {node!r} is a root the world "
                                       f"generates; a rate can only be set on a node with "
                                       f"parents or on the treatment")
        card = g[node].cardinality
        if card == 2:
            if isinstance(val, bool) or not isinstance(val, Real) or not 0 < val < 1:
                raise ValueError(f"{where}: rates[{key!r}] must be a probability in (0, 1) for "
                                 f"the binary node {node!r}, got {val!r}")
            continue
        ok = (isinstance(val, Sequence) and not isinstance(val, str) and len(val) == card
              and all(isinstance(x, Real) and not isinstance(x, bool) for x in val))
        if not ok:
            raise ValueError(f"{where}: rates[{key!r}] must be {card} probabilities (one per "
                             f"state of {node!r}: {list(g[node].states)}), got {val!r}")
        if not all(math.isfinite(x) and x > 0 for x in val):
            raise ValueError(f"{where}: rates[{key!r}] must be positive, got {list(val)}")
        if abs(math.fsum(val) - 1.0) > SUM_TOLERANCE:
            raise ValueError(f"{where}: rates[{key!r}] must sum to 1 (a distribution over the "
                             f"states of {node!r}), got {list(val)} summing to "
                             f"{math.fsum(val):g}")
    rates = dict(DEFAULT_RATES)
    rates.update(given)
    return rates
