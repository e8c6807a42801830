"""Probabilities of causation: necessity (PN), sufficiency (PS), both (PNS).

For a treatment value ``x`` (with alternative ``x'``) and an outcome value ``y`` (``y'`` is
any other outcome state), Pearl (1999, "Probabilities of causation: three counterfactual
interpretations and their identification"; *Causality*, 2009, ch. 9) defines

    PN  = P(Y_{x'} = y' | X = x, Y = y)     "was x necessary for y?"
    PS  = P(Y_x = y | X = x', Y = y')       "would x have been sufficient for y?"
    PNS = P(Y_x = y, Y_{x'} = y')

They are counterfactual, so a network gives them only under an assumption.
:func:`probabilities_of_causation` reports them three ways:

- ``method="twin"``: exactly, from a structural model (a :class:`DiscreteSCM`, or a fitted
  network under a stated parameterisation) by twin-network queries;
- ``method="monotonicity"``: exactly under monotonicity (``Y_x >= Y_{x'}`` for every unit),
  from the observational joint and the interventional ``P(y_x)`` (Tian & Pearl 2000,
  "Probabilities of causation: bounds and identification", thm. 1):
  ``PNS = P(y_x) - P(y_{x'})``, ``PN = [P(y) - P(y_{x'})] / P(x, y)``,
  ``PS = [P(y_x) - P(y)] / P(x', y')``;
- ``method="bounds"``: no assumption, the sharp bounds of Tian & Pearl (2000, eqs. 18-23)
  from the same observational and interventional quantities.

Every result also carries the Tian-Pearl bounds, which contain the true value whatever the
structural model is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .counterfactual import DiscreteSCM, as_scm, multi_world_query

METHODS = ("twin", "monotonicity", "bounds")


@dataclass(frozen=True)
class CausationProbabilities:
    """PN, PS, PNS (NaN where a method gives only bounds) and their Tian-Pearl bounds."""

    pn: float
    ps: float
    pns: float
    pn_bounds: tuple[float, float]
    ps_bounds: tuple[float, float]
    pns_bounds: tuple[float, float]
    method: str
    assumption: str
    inputs: dict

    def as_dict(self) -> dict:
        return {"PN": self.pn, "PS": self.ps, "PNS": self.pns,
                "PN_bounds": self.pn_bounds, "PS_bounds": self.ps_bounds,
                "PNS_bounds": self.pns_bounds, "method": self.method,
                "assumption": self.assumption}


def tian_pearl_bounds(p_yx: float, p_yx0: float, p_xy: float, p_xy0: float, p_x0y: float,
                      p_x0y0: float) -> dict:
    """Sharp bounds on PNS, PN and PS from ``P(y_x)``, ``P(y_{x'})`` and the joint
    ``P(x, y), P(x, y'), P(x', y), P(x', y')`` (Tian & Pearl 2000, eqs. 18-23; here ``x'``
    and ``y'`` are written x0, y0). Returns ``{"PNS": (lo, hi), "PN": ..., "PS": ...}``;
    PN (PS) is NaN-bounded when ``P(x, y)`` (``P(x', y')``) is zero."""
    p_y = p_xy + p_x0y
    p_y0x0 = 1.0 - p_yx0
    pns = (max(0.0, p_yx - p_yx0, p_y - p_yx0, p_yx - p_y),
           min(p_yx, p_y0x0, p_xy + p_x0y0, p_yx - p_yx0 + p_xy0 + p_x0y))
    if p_xy > 0:
        pn = (max(0.0, (p_y - p_yx0) / p_xy), min(1.0, (p_y0x0 - p_x0y0) / p_xy))
    else:
        pn = (float("nan"), float("nan"))
    if p_x0y0 > 0:
        ps = (max(0.0, (p_yx - p_y) / p_x0y0), min(1.0, (p_yx - p_xy) / p_x0y0))
    else:
        ps = (float("nan"), float("nan"))
    return {"PNS": pns, "PN": pn, "PS": ps}


def _states(states: list, value: Any, what: str, name: str) -> int:
    for i, s in enumerate(states):
        if s == value:
            return i
    raise ValueError(f"{what}: {value!r} is not a state of {name!r} (states: {states})")


def _arms(states: list, name: str, treated: Any, control: Any) -> tuple[int, int]:
    if treated is None or control is None:
        if len(states) != 2:
            raise ValueError(f"treatment {name!r} has {len(states)} states {states}; pass "
                             "treated= and control=")
        treated = states[1] if treated is None else treated
        control = states[0] if control is None else control
    ti, ci = _states(states, treated, "treated", name), _states(states, control, "control", name)
    if ti == ci:
        raise ValueError(f"treated and control are the same state {treated!r} of {name!r}")
    return ti, ci


def _scm_inputs(scm: DiscreteSCM, x: str, y: str, ti: int, ci: int, yi: int) -> dict:
    """The observational joint and P(y_x), P(y_{x'}) read off a structural model."""
    sx, sy = scm.states[x], scm.states[y]
    joint = multi_world_query(scm, [{}], [(0, x), (0, y)])
    p_yx = multi_world_query(scm, [{x: sx[ti]}], [(0, y)])[yi]
    p_yx0 = multi_world_query(scm, [{x: sx[ci]}], [(0, y)])[yi]
    return _pack(joint, p_yx, p_yx0, ti, ci, yi, len(sy))


def _network_inputs(bn: Any, x: str, y: str, ti: int, ci: int, yi: int) -> dict:
    from .interventions import do_query, network

    net = network(bn)
    joint = do_query(net, [x, y]).values
    p_do = do_query(net, [y], {x: ...}).values  # y x X
    return _pack(joint, p_do[yi, ti], p_do[yi, ci], ti, ci, yi, net.card[y])


def _pack(joint: np.ndarray, p_yx: float, p_yx0: float, ti: int, ci: int, yi: int,
          n_y: int) -> dict:
    not_y = [j for j in range(n_y) if j != yi]
    return {"P(y_x)": float(p_yx), "P(y_x')": float(p_yx0),
            "P(x,y)": float(joint[ti, yi]), "P(x,y')": float(joint[ti, not_y].sum()),
            "P(x',y)": float(joint[ci, yi]), "P(x',y')": float(joint[ci, not_y].sum())}


def probabilities_of_causation(model: Any, treatment: str, outcome: str, treated: Any = None,
                               control: Any = None, outcome_value: Any = None, *,
                               method: str = "bounds",
                               parameterisation: str = "comonotone",
                               tol: float = 1e-9) -> CausationProbabilities:
    """PN, PS and PNS of ``treatment = treated`` (vs ``control``) for ``outcome = outcome_value``.

    Args:
        model: a fitted :class:`~pgmpy.models.DiscreteBayesianNetwork` (causal: latent nodes
            carry CPDs) or a :class:`DiscreteSCM`.
        treatment, outcome: node names; ``treated``/``control`` default to the two states of
            a binary treatment, ``outcome_value`` to the outcome's last state.
        method: ``"twin"`` (exact from the structural model; a network is turned into one
            under ``parameterisation``), ``"monotonicity"`` (exact if ``Y`` is monotone in
            ``X``) or ``"bounds"`` (no assumption: point values NaN).
        tol: slack for the check that monotonicity's values lie inside the bounds.

    Raises:
        ValueError: unknown node or state, a zero-probability conditioning event, or data
            that contradict monotonicity (its values outside the Tian-Pearl bounds).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if treatment == outcome:
        raise ValueError(f"treatment and outcome are the same node {treatment!r}")
    is_scm = isinstance(model, DiscreteSCM)
    if method == "twin" or is_scm:
        scm = as_scm(model, parameterisation)
        for role, v in (("treatment", treatment), ("outcome", outcome)):
            scm.check_variable(v, role)
        states = scm.states
    else:
        from .interventions import network

        net = network(model)
        for role, v in (("treatment", treatment), ("outcome", outcome)):
            if v not in net.cpds:
                raise ValueError(f"{role} {v!r} is not a node of the network "
                                 f"(nodes: {', '.join(map(str, net.cpds))})")
        states = net.states
    ti, ci = _arms(states[treatment], treatment, treated, control)
    sy = states[outcome]
    yi = len(sy) - 1 if outcome_value is None else _states(sy, outcome_value, "outcome_value",
                                                           outcome)
    if method == "twin" or is_scm:
        inputs = _scm_inputs(scm, treatment, outcome, ti, ci, yi)
    else:
        inputs = _network_inputs(net, treatment, outcome, ti, ci, yi)
    b = tian_pearl_bounds(*inputs.values())
    nan = float("nan")
    if method == "bounds":
        return CausationProbabilities(nan, nan, nan, b["PN"], b["PS"], b["PNS"], "bounds",
                                      "none (sharp bounds)", inputs)
    if method == "monotonicity":
        p_y = inputs["P(x,y)"] + inputs["P(x',y)"]
        pns = inputs["P(y_x)"] - inputs["P(y_x')"]
        pn = (p_y - inputs["P(y_x')"]) / inputs["P(x,y)"] if inputs["P(x,y)"] > 0 else nan
        ps = (inputs["P(y_x)"] - p_y) / inputs["P(x',y')"] if inputs["P(x',y')"] > 0 else nan
        for name, val in (("PNS", pns), ("PN", pn), ("PS", ps)):
            lo, hi = b[name]
            if not np.isnan(val) and not lo - tol <= val <= hi + tol:
                raise ValueError(f"the distribution contradicts monotonicity: {name} = {val:.6g}"
                                 f" under monotonicity lies outside its bounds [{lo:.6g}, "
                                 f"{hi:.6g}]; use method='bounds'")
        return CausationProbabilities(pn, ps, pns, b["PN"], b["PS"], b["PNS"], "monotonicity",
                                      f"{outcome} monotone in {treatment} (Y_x >= Y_x')", inputs)
    sx = scm.states[treatment]
    x1, x0 = sx[ti], sx[ci]
    worlds = [{}, {treatment: x1}, {treatment: x0}]
    # joint over (X, Y factual, Y_x, Y_x') in one elimination
    j = multi_world_query(scm, worlds, [(0, treatment), (0, outcome), (1, outcome),
                                        (2, outcome)])
    not_y = [k for k in range(len(sy)) if k != yi]
    pns = float(j[:, :, yi, :][:, :, not_y].sum())
    num_pn = float(j[ti, yi][:, not_y].sum())
    den_pn = float(j[ti, yi].sum())
    num_ps = float(j[ci][not_y][:, yi].sum())
    den_ps = float(j[ci][not_y].sum())
    pn = num_pn / den_pn if den_pn > 0 else nan
    ps = num_ps / den_ps if den_ps > 0 else nan
    return CausationProbabilities(pn, ps, pns, b["PN"], b["PS"], b["PNS"], "twin",
                                  scm.assumption, inputs)
