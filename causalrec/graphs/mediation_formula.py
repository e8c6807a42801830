"""Natural direct and indirect effects by Pearl's mediation formula.

For a treatment ``X`` (control ``x0``, treated ``x1``), mediator(s) ``M``, outcome ``Y`` and
covariates ``C`` that block every mediator-outcome confounding path (Pearl 2001, "Direct and
indirect effects", UAI; Pearl 2012, "The mediation formula"):

    NDE = sum_c P(c) sum_m [E(Y | do(x1, m), c) - E(Y | do(x0, m), c)] P(m | do(x0), c)
    NIE = sum_c P(c) sum_m  E(Y | do(x1, m), c) [P(m | do(x1), c) - P(m | do(x0), c)]

(``NDE`` is the pure natural direct effect, ``NIE`` the total natural indirect effect), so that
``total = E(Y | do(x1)) - E(Y | do(x0)) = NDE + NIE``. The total is computed independently by
:func:`~causalrec.graphs.do_query`; when the identity fails (beyond ``tol``) some
mediator-outcome confounder is missing from ``C`` and :class:`MediationIdentityError` is raised.
Every term comes from batched interventional queries on the fitted network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .effects import arms, expected_outcomes, outcome_scores
from .interventions import PreparedNetwork, do_query, network


class MediationIdentityError(ValueError):
    """``total != natural_direct + natural_indirect``: the mediator-outcome relation is
    confounded given the covariates used."""


def default_covariates(net: PreparedNetwork, treatment: str, mediators: Sequence[str],
                       outcome: str) -> list[str]:
    """Parents of the mediators and the outcome that are not the treatment, a mediator, or a
    descendant of the treatment. A latent parent is kept: the fitted network carries its CPD,
    so the formula can average over it."""
    import networkx as nx

    g = nx.DiGraph([(p, c) for c, ps in net.parents.items() for p in ps])
    g.add_nodes_from(net.parents)
    desc = nx.descendants(g, treatment)
    out = []
    for node in [*mediators, outcome]:
        for p in net.parents[node]:
            if p == treatment or p in mediators or p in desc or p in out:
                continue
            out.append(p)
    return out


def mediation(bn: Any, treatment: str, mediator: str | Sequence[str], outcome: str,
              treated: Any = None, control: Any = None, *, covariates: Sequence[str] | None = None,
              outcome_value: Any = None, tol: float = 1e-9) -> dict:
    """``{"total", "natural_direct", "natural_indirect", "proportion_mediated"}`` of the
    effect of ``treatment`` (``control -> treated``) on ``outcome`` through ``mediator``.

    ``covariates`` default to the observed non-descendant parents of the mediator(s) and the
    outcome (``default_covariates`` in this module). Raises :class:`MediationIdentityError` when
    ``|total - (NDE + NIE)| > tol``.
    """
    net = network(bn)
    mediators = [mediator] if isinstance(mediator, str) else list(mediator)
    treated, control = arms(net, treatment, treated, control)
    ti = net.state_index(treatment, treated, "treated")
    ci = net.state_index(treatment, control, "control")
    if covariates is None:
        covariates = default_covariates(net, treatment, mediators, outcome)
    covariates = list(covariates)
    scores = outcome_scores(net, outcome, outcome_value)
    k, nm = len(covariates), len(mediators)
    do_all = dict.fromkeys([treatment, *mediators], ...)

    # E(Y | do(x, m), c): P(Y, C | do(x, m)) then divide out P(C | do(x, m)).
    f_y = do_query(net, [outcome, *covariates], do_all)  # axes: Y, C..., X, M...
    joint = f_y.values
    with np.errstate(invalid="ignore", divide="ignore"):
        p_c_xm = joint.sum(axis=0)  # C..., X, M...
        ey = np.tensordot(scores, joint, axes=([0], [0])) / p_c_xm
    # P(m | do(x), c): P(M, C | do(x)) then divide out P(C | do(x)).
    f_m = do_query(net, [*mediators, *covariates], {treatment: ...})  # M..., C..., X
    pm = f_m.values
    with np.errstate(invalid="ignore", divide="ignore"):
        p_c_x = pm.sum(axis=tuple(range(nm)))  # C..., X
        pm_c = pm / p_c_x
    # move axes to (C..., X, M...) for ey and (C..., X, M...) for pm_c
    pm_c = np.moveaxis(pm_c, list(range(nm)), list(range(k + 1, k + 1 + nm)))
    p_c = p_c_x[..., ci]  # P(c) (C are non-descendants of X, so either arm works)
    ey = np.nan_to_num(ey)
    pm_c = np.nan_to_num(pm_c)
    m_axes = tuple(range(k, k + nm))

    def avg(arr):  # sum_c P(c) sum_m arr
        return float((arr.sum(axis=m_axes) * p_c).sum()) if k else float(arr.sum())

    def arm(arr, i):  # select the treatment axis (just before the mediator axes)
        return arr[(Ellipsis, i) + (slice(None),) * nm]

    ey1, ey0, pm1, pm0 = arm(ey, ti), arm(ey, ci), arm(pm_c, ti), arm(pm_c, ci)
    nde = avg((ey1 - ey0) * pm0)
    nie = avg(ey1 * (pm1 - pm0))
    means = expected_outcomes(net, treatment, outcome, None, outcome_value)
    vals = list(means.values())
    total = float(vals[ti] - vals[ci])
    gap = total - (nde + nie)
    if abs(gap) > tol:
        raise MediationIdentityError(
            f"total effect {total:.6g} != NDE {nde:.6g} + NIE {nie:.6g} (gap {gap:.3g}): the "
            f"{mediators}-{outcome!r} relation is confounded given covariates {covariates}; "
            "pass covariates= that block it")
    return {"total": total, "natural_direct": nde, "natural_indirect": nie,
            "proportion_mediated": nie / total if total else float("nan")}
