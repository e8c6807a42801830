"""Ground truth of a simulated world: potential outcomes, effects and policy values.

Per logged row the world draws the true propensity, the potential outcomes ``y0``/``y1``
(sampled, coupled through the same noise) and their expectations ``mu0``/``mu1``
(:meth:`causalrec.sim.world.World.run`); these are also columns of the interactions table
(``propensity``, ``true_mu0``, ``true_mu1``, ``true_y0``, ``true_y1``). From them this module
computes the ATE, the CATE per intent and per topic, the natural direct and indirect effects
(Pearl 2001, "Direct and Indirect Effects"), ``E[target | do(treatment)]`` for any (user, item)
pair, and the true value of a top-``k`` policy. :class:`SimulationTruth` carries them, as
arrays and plain numbers, on the :class:`~causalrec.sim.SimulationResult` returned by
:func:`~causalrec.sim.simulate`; ``data.meta["truth"]`` holds its JSON-able
:meth:`SimulationTruth.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .world import World


# ============================================================================ computations
def _group_mean(x: np.ndarray, groups: np.ndarray, n: int) -> dict:
    cnt = np.bincount(groups, minlength=n)
    tot = np.bincount(groups, weights=x, minlength=n)
    return {int(i): (float(tot[i] / cnt[i]) if cnt[i] else float("nan")) for i in range(n)}


def effects(world: World, rows: dict) -> dict:
    """ATE, naive difference, CATE per topic and per intent, and mediation on drawn rows."""
    g, t, y = world.graph, world.graph.treatment, world.graph.outcome
    tau = rows["mu1"] - rows["mu0"]
    yobs = g[y].numeric_states()[rows[y]]
    tr = rows[t] == 1
    naive = float(yobs[tr].mean() - yobs[~tr].mean()) if tr.any() and (~tr).any() \
        else float("nan")
    users = rows["user"]
    out = {"ate": float(tau.mean()), "naive": naive, "n": len(tau),
           "cate_by_topic": _group_mean(tau, world.user_topic[users], world.k)}
    if "intent" in g:
        out["cate_by_intent"] = _group_mean(tau, rows["intent"], g["intent"].cardinality)
    else:
        out["cate_by_intent"] = out["cate_by_topic"]
    out["mediation"] = mediation(world, rows)
    return out


def mediation(world: World, rows: dict) -> dict:
    """Natural direct and indirect effects of the treatment on the outcome (and on
    ``purchase`` when it is another descendant), via every mediator jointly."""
    g, t, m = world.graph, world.graph.treatment, world.model
    out = {}
    targets = [g.outcome] + [v for v in ("purchase",) if v in g and v != g.outcome]
    n = len(rows["user"])
    known = rows["_known"]
    desc = g.descendants(t)
    for y in targets:
        if y not in desc:
            continue
        anc = g.ancestors(y)
        mediators = [v for v in g.order if v in desc and v in anc]
        y11, y00, y10 = (m.expect(y, known, {t: a}, rows["pref"], n, {t: b}).mean()
                         for a, b in ((1, 1), (0, 0), (1, 0)))
        out[y] = {"treatment": t, "outcome": y, "mediators": mediators,
                  "total": float(y11 - y00), "natural_direct": float(y10 - y00),
                  "natural_indirect": float(y11 - y10)}
    return out


def expected(world: World, users: np.ndarray, items: np.ndarray, treatment: int,
             target: str | None = None) -> np.ndarray:
    """E[target | do(treatment)] for (user, item) pairs, exact given the world's roots."""
    g = world.graph
    target = target or g.outcome
    if target not in g:
        raise ValueError(f"unknown target node {target!r}; graph nodes: {g.node_names}")
    users, items = users.reshape(-1), items.reshape(-1)
    vals, pref = world.roots(users, items)
    return world.model.expect(target, vals, {g.treatment: int(treatment)}, pref, len(users))


def policy_value(world: World, scores, k: int, users=None, target=None, uplift=False,
                 exclude=None) -> float:
    """True expected reward per slot of the top-``k`` policy of ``scores`` (see
    :meth:`SimulationTruth.policy_value`)."""
    s = np.asarray(scores.detach().cpu().numpy() if hasattr(scores, "detach") else scores,
                   dtype=float)
    if s.ndim != 2 or s.shape[1] != world.n_items:
        raise ValueError(f"scores must be [n_users, {world.n_items}], got {s.shape}")
    users = np.arange(len(s)) if users is None else np.asarray(users, dtype=np.int64)
    if len(users) != len(s):
        raise ValueError(f"scores has {len(s)} rows but {len(users)} users were given")
    if users.max(initial=0) >= world.n_users or users.min(initial=0) < 0:
        raise ValueError(f"users must lie in 0..{world.n_users - 1}")
    if not 1 <= k <= world.n_items:
        raise ValueError(f"k must lie in 1..{world.n_items}, got {k}")
    if exclude is not None:
        ex = exclude.toarray() if hasattr(exclude, "toarray") else np.asarray(exclude)
        s = np.where(ex.astype(bool), -np.inf, s)
    top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    uu = np.repeat(users, k)
    v = expected(world, uu, top.reshape(-1), 1, target)
    if uplift:
        v = v - expected(world, uu, top.reshape(-1), 0, target)
    return float(v.mean())


# ============================================================================ the record
@dataclass
class SimulationTruth:
    """Ground truth of one simulated world. Arrays are aligned with the rows of ``data``
    (logged rows) and ``randomized`` (test rows) of the :class:`SimulationResult`; ``world``
    evaluates any (user, item) pair (:meth:`expected_outcomes`, :meth:`policy_value`)."""

    graph: str
    treatment: str
    outcome: str
    propensity: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    ate: float
    cate_by_intent: dict
    cate_by_topic: dict
    mediation: dict
    naive: float
    user_intent: np.ndarray
    user_topic: np.ndarray
    user_mixture: np.ndarray
    item_topic: np.ndarray
    item_popularity: np.ndarray
    randomized: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    world: Any = None  # the World that can evaluate any (user, item) pair

    def policy_value(self, scores, k: int, users=None, target: str | None = None,
                     uplift: bool = False, exclude=None) -> float:
        """True expected reward per recommended slot of the top-``k`` policy of ``scores``.

        The policy exposes (``do(treatment=1)``) each user's ``k`` highest-scored items; the
        reward is the expected ``target`` (default: the graph's outcome) under that
        intervention, averaged over users and slots. ``uplift=True`` gives the expected
        *caused* reward, E[Y | do(T=1)] - E[Y | do(T=0)]. ``scores`` is ``[n_users, n_items]``
        (or ``[len(users), n_items]`` with ``users``); ``exclude`` is an optional boolean
        matrix of the same shape (e.g. training items) that is never recommended.
        """
        return policy_value(self.world, scores, k, users=users, target=target, uplift=uplift,
                            exclude=exclude)

    def expected_outcomes(self, users, items, treatment: int = 1,
                          target: str | None = None) -> np.ndarray:
        """E[target | do(treatment)] for arbitrary (user, item) pairs (the oracle)."""
        return expected(self.world, np.asarray(users), np.asarray(items), treatment, target)

    def summary(self) -> dict:
        """The world-level truth as JSON-able numbers (what ``data.meta["truth"]`` holds)."""
        return {"graph": self.graph, "treatment": self.treatment, "outcome": self.outcome,
                "ate": self.ate, "naive": self.naive,
                "cate_by_intent": {str(k): v for k, v in self.cate_by_intent.items()},
                "cate_by_topic": {str(k): v for k, v in self.cate_by_topic.items()},
                "mediation": self.mediation,
                "randomized_ate": self.randomized.get("ate")}
