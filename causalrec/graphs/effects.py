"""Average and conditional average treatment effects read off a fitted network.

``ate = E[Y | do(X = treated)] - E[Y | do(X = control)]`` and
``cate = E[Y | do(X = treated), evidence] - E[Y | do(X = control), evidence]`` (Pearl 2009,
ch. 3; Rubin 1974 for the potential-outcome reading), both from one batched
:func:`~causalrec.graphs.do_query` over the treatment's values.

``E[Y]`` uses the outcome's states as numbers when they are numeric (a 0/1 click gives
``P(click = 1)``, a 1-5 rating its mean); otherwise pass ``outcome_value`` to get the effect
on ``P(Y = outcome_value)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Number
from typing import Any

import numpy as np

from .interventions import PreparedNetwork, do_query, network


def arms(net: PreparedNetwork, treatment: str, treated: Any = None, control: Any = None):
    """The (treated, control) states: the given ones, or the two states of a binary node."""
    states = net.states[treatment]
    if treated is None or control is None:
        if len(states) != 2:
            raise ValueError(f"treatment {treatment!r} has {len(states)} states {states}; "
                             "pass treated= and control=")
        control = states[0] if control is None else control
        treated = states[1] if treated is None else treated
    return treated, control


def outcome_scores(net: PreparedNetwork, outcome: str, outcome_value: Any = None) -> np.ndarray:
    """The number attached to each outcome state: the state itself, or 1{state = value}."""
    states = net.states[outcome]
    if outcome_value is not None:
        net.state_index(outcome, outcome_value, "outcome_value")
        return np.array([1.0 if s == outcome_value else 0.0 for s in states])
    if not all(isinstance(s, Number) and not isinstance(s, bool) for s in states):
        raise ValueError(f"outcome {outcome!r} has non-numeric states {states}; pass "
                         "outcome_value= to get the effect on P(outcome = value)")
    return np.asarray(states, dtype=float)


def expected_outcomes(bn: Any, treatment: str, outcome: str, evidence: Mapping | None = None,
                      outcome_value: Any = None) -> dict:
    """``{x: E[outcome | do(treatment = x), evidence]}`` for every treatment state (one
    elimination)."""
    net = network(bn)
    f = do_query(net, [outcome], {treatment: ...}, evidence)
    scores = outcome_scores(net, outcome, outcome_value)
    means = np.tensordot(scores, f.values, axes=([0], [0]))
    return dict(zip(f.state_names[treatment], means.tolist()))


def ate(bn: Any, treatment: str, outcome: str, treated: Any = None, control: Any = None, *,
        outcome_value: Any = None) -> float:
    """Average treatment effect ``E[Y | do(treated)] - E[Y | do(control)]``, exact."""
    return cate(bn, treatment, outcome, None, treated, control, outcome_value=outcome_value)


def cate(bn: Any, treatment: str, outcome: str, evidence: Mapping | None, treated: Any = None,
         control: Any = None, *, outcome_value: Any = None) -> float:
    """Conditional average treatment effect given ``evidence`` (any observed values, e.g. an
    intent cluster), ``E[Y | do(treated), e] - E[Y | do(control), e]``."""
    net = network(bn)
    treated, control = arms(net, treatment, treated, control)
    ti = net.state_index(treatment, treated, "treated")
    ci = net.state_index(treatment, control, "control")
    means = list(expected_outcomes(net, treatment, outcome, evidence, outcome_value).values())
    value = means[ti] - means[ci]
    if np.isnan(value):
        raise ValueError(f"evidence {dict(evidence or {})} is impossible under one of the arms")
    return float(value)
