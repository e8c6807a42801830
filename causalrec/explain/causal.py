"""The causal part of an explanation: what recommending does for users like this one,
read off the study's fitted network.

For the evidence ``e`` describing the user (e.g. ``{"intent": 2}``) and the graph's
treatment ``T`` (exposure / recommendation) and outcome ``Y``:

- **interventional**: ``E[Y | do(T=1), e]``, ``E[Y | do(T=0), e]`` and their difference, the
  conditional effect of recommending (Pearl 2009, ch. 3; :func:`causalrec.graphs.do_query`);
- **mediated**: where the graph declares a mediator ``M``, the effect given ``e`` split by
  the mediation formula into a natural direct and indirect part (Pearl 2001, "Direct and
  indirect effects"), ``NDE_e = sum_m [E(Y | do(1, m), e) - E(Y | do(0, m), e)] P(m | do(0), e)``
  and ``NIE_e = sum_m E(Y | do(1, m), e) [P(m | do(1), e) - P(m | do(0), e)]``; ``gap`` is
  ``effect - NDE - NIE`` (zero when ``e`` blocks every mediator-outcome confounder);
- **counterfactual**: the probabilities of necessity and sufficiency for a user like this,
  ``PN_e = P(Y_0 = 0 | T = 1, Y = 1, e)`` ("had it not been recommended, would they not have
  clicked?") and ``PS_e = P(Y_1 = 1 | T = 0, Y = 0, e)``, on the twin network of the
  comonotone structural model of the network (:mod:`causalrec.graphs.counterfactual`; the
  assumption is stated in the result).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class CausalEvidence:
    """Interventional, mediated and counterfactual answers for one kind of user."""

    treatment: str
    outcome: str
    evidence: dict
    if_recommended: float
    if_not_recommended: float
    effect: float
    mediator: str | None = None
    direct: float | None = None
    indirect: float | None = None
    gap: float | None = None
    pn: float | None = None
    ps: float | None = None
    assumption: str = ""

    def __str__(self) -> str:
        who = ", ".join(f"{k}={v}" for k, v in self.evidence.items()) or "all users"
        text = (f"for users with {who}: E[{self.outcome} | do({self.treatment}=1)] = "
                f"{self.if_recommended:.3f} vs {self.if_not_recommended:.3f} without, an effect "
                f"of {self.effect:+.3f}")
        if self.mediator is not None:
            text += (f" ({self.direct:+.3f} direct, {self.indirect:+.3f} through "
                     f"{self.mediator})")
        if self.pn is not None:
            text += f"; PN {self.pn:.3f}"
        if self.ps is not None:
            text += f", PS {self.ps:.3f}"
        return text


def _index(net, var: str, value: Any, what: str) -> int:
    return net.state_index(var, value, what)


def causal_evidence(bn: Any, graph: Any, evidence: Mapping | None = None, *,
                    treated: Any = None, control: Any = None, outcome_value: Any = None,
                    counterfactual: bool = True) -> CausalEvidence:
    """:class:`CausalEvidence` for users described by ``evidence`` from the fitted network
    ``bn`` of the declared ``graph`` (its ``treatment``, ``outcome`` and ``mediator``)."""
    from ..graphs import load_graph
    from ..graphs.counterfactual import DiscreteSCM, multi_world_query
    from ..graphs.effects import arms, outcome_scores
    from ..graphs.interventions import do_query, network

    spec = load_graph(graph)
    net = network(bn)
    t, y, m = spec.treatment, spec.outcome, spec.mediator
    evidence = dict(evidence or {})
    for var in [t, y, *([m] if m else []), *evidence]:
        if var not in net.cpds:
            raise ValueError(f"{var!r} is not a node of the fitted network (nodes: "
                             f"{', '.join(map(str, net.cpds))})")
    for var, val in evidence.items():
        _index(net, var, val, "evidence")
    if t in evidence or y in evidence:
        raise ValueError(f"evidence may not fix the treatment {t!r} or the outcome {y!r}")
    treated, control = arms(net, t, treated, control)
    ti, ci = _index(net, t, treated, "treated"), _index(net, t, control, "control")
    if outcome_value is None:
        outcome_value = net.states[y][-1]
    scores = outcome_scores(net, y, outcome_value)
    p_y = do_query(net, [y], {t: ...}, evidence).values          # Y x T
    means = scores @ p_y
    out = CausalEvidence(t, y, evidence, float(means[ti]), float(means[ci]),
                         float(means[ti] - means[ci]))
    if m is not None and m not in evidence:
        ey = np.tensordot(scores, do_query(net, [y], {t: ..., m: ...}, evidence).values,
                          axes=([0], [0]))                          # T x M
        pm = do_query(net, [m], {t: ...}, evidence).values         # M x T
        out.mediator = m
        out.direct = float(((ey[ti] - ey[ci]) * pm[:, ci]).sum())
        out.indirect = float((ey[ti] * (pm[:, ti] - pm[:, ci])).sum())
        out.gap = out.effect - out.direct - out.indirect
    if counterfactual:
        scm = DiscreteSCM.from_network(net, "comonotone")
        yi = net.states[y].index(outcome_value)
        ev = [(0, v, s) for v, s in evidence.items()]
        st = net.states[t]
        try:
            q = multi_world_query(scm, [{}, {t: st[ci]}], [(1, y)],
                                  [(0, t, st[ti]), (0, y, outcome_value), *ev])
            out.pn = float(1.0 - q[yi])
        except ValueError:
            out.pn = None
        others = [s for s in net.states[y] if s != outcome_value]
        if len(others) == 1:
            try:
                q = multi_world_query(scm, [{}, {t: st[ti]}], [(1, y)],
                                      [(0, t, st[ci]), (0, y, others[0]), *ev])
                out.ps = float(q[yi])
            except ValueError:
                out.ps = None
        out.assumption = scm.assumption
    return out
