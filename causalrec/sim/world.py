"""A structural causal simulator for recommendation, with ground truth.

One declared graph (``conf/graph/*.yaml``) is the source of truth: its nodes are the variables
of every simulated (user, item) row and their parents are exactly the graph's parents
(equations in :mod:`causalrec.sim.equations`). Around the graph, the simulator builds a
recommendation world:

* **users** have a latent intent: a mixture over ``K`` topics drawn from a Dirichlet centred on
  a dominant topic (the graph's ``intent`` node is that topic, merged into the node's states
  when ``K`` exceeds them);
* **items** have a topic and a Zipf popularity (Zipf 1949; the graph's ``popularity`` node is
  the popularity binned into equal-mass levels, most popular last);
* **text**: review-like user text and item titles/descriptions from topic vocabularies with a
  noise knob (:mod:`causalrec.sim.text`), so intent is recoverable by a text
  encoder and becomes harder to recover as the noise rises;
* **logged rows**: each user gets ``per_user`` candidate items (a topic from the user's mixture
  with probability ``candidate_intent``, else uniform; an item within the topic by
  popularity); the graph's treatment (exposure) is drawn from its equation - the logging
  policy, missing not at random, its dependence on intent and popularity scaled by
  ``confounding``; outcomes follow (click, purchase, rating: whatever the graph declares);
* **randomized test rows** (like Coat and Yahoo! R3; Schnabel et al. 2016): for a held-out
  sample of users, uniformly random items and exposure with a constant probability.

Ground truth (:class:`SimulationTruth`, also in ``data.meta["truth"]``): the true propensity
of every row, potential outcomes ``y0``/``y1`` (sampled, coupled through the same noise) and
their expectations ``mu0``/``mu1``, the ATE, CATE per intent, natural direct and indirect
effects (Pearl 2001, "Direct and Indirect Effects"), and ``policy_value(scores, k)``.

Everything is vectorised NumPy and deterministic given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data.schema import InteractionData
from .equations import Equation, StructuralModel, _logit, _sigmoid
from .graph import GraphSpecError, SimGraph, read_graph
from .text import item_texts, user_texts

LOGGING_POLICY = "logging"
RANDOM_POLICY = "random"

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


# ============================================================================ results
@dataclass
class SimulationTruth:
    """Ground truth of one simulated world. Arrays are aligned with the rows of ``data``
    (logged rows) and ``randomized`` (test rows) of the :class:`SimulationResult`."""

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
    world: Any = None  # the _World that can evaluate any (user, item) pair

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
        return self.world.policy_value(scores, k, users=users, target=target, uplift=uplift,
                                       exclude=exclude)

    def expected_outcomes(self, users, items, treatment: int = 1,
                          target: str | None = None) -> np.ndarray:
        """E[target | do(treatment)] for arbitrary (user, item) pairs (the oracle)."""
        return self.world.expected(np.asarray(users), np.asarray(items), treatment, target)

    def summary(self) -> dict:
        return {"graph": self.graph, "treatment": self.treatment, "outcome": self.outcome,
                "ate": self.ate, "naive": self.naive, "cate_by_intent": self.cate_by_intent,
                "mediation": self.mediation,
                "randomized_ate": self.randomized.get("ate")}


@dataclass
class SimulationResult:
    """What :func:`simulate` returns: the logs, the randomized test set, the truth."""

    data: InteractionData          # biased logged rows (policy "logging")
    randomized: InteractionData    # randomized-exposure rows for held-out users
    truth: SimulationTruth
    graph: SimGraph
    frames: dict = field(default_factory=dict)  # state indices per node, "logs"/"randomized"

    def combined(self) -> InteractionData:
        """Logs and randomized rows in one InteractionData, told apart by ``policy``."""
        inter = pd.concat([self.data.interactions, self.randomized.interactions],
                          ignore_index=True)
        return self.data.with_interactions(inter, name=self.data.name)

    def to_discrete_frame(self, which: str = "logs", include_latent: bool = True) -> pd.DataFrame:
        """One column per graph node (intent discretised to the node's states), values are
        the graph's state labels: ready for ``causalrec.graphs.fit`` and ``do_query``."""
        if which == "all":
            return pd.concat([self.to_discrete_frame("logs", include_latent),
                              self.to_discrete_frame("randomized", include_latent)],
                             ignore_index=True)
        if which not in self.frames:
            raise ValueError(f"which must be 'logs', 'randomized' or 'all', got {which!r}")
        idx = self.frames[which]
        cols = {}
        for name in self.graph.order:
            node = self.graph.nodes[name]
            if node.latent and not include_latent:
                continue
            states = node.states
            if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in states):
                cols[name] = np.asarray(states, dtype=np.int64)[idx[name]]
            else:
                cols[name] = np.asarray(states, dtype=object)[idx[name]]
        return pd.DataFrame(cols)

    def sample(self, users=None, per_user: int | None = None, policy: str = RANDOM_POLICY,
               candidates: str = "logging", propensity: float = 0.5, seed: int = 1):
        """Fresh rows from the same world: ``policy`` "logging" (the biased policy) or
        "random" (exposure with constant ``propensity``); ``candidates`` "logging" (drawn
        like the logs) or "uniform" (uniformly random items). Returns ``(frame, truth)`` where
        ``frame`` has user, item, node state indices, propensity, mu0, mu1, y0, y1."""
        w = self.truth.world
        users = np.arange(w.n_users) if users is None else np.asarray(users)
        rows = w.rows(users, per_user or w.opt["per_user"], candidates,
                      np.random.default_rng([w.seed, 7919, seed]))
        rows = w.run(rows, policy, propensity, np.random.default_rng([w.seed, 7927, seed]))
        frame = pd.DataFrame({k: v for k, v in rows.items() if k not in ("pref", "_known")})
        return frame, w.effects(rows)


# ============================================================================ the world
class _World:
    """Users, items, the structural model, and the row generator of one simulation."""

    def __init__(self, graph: SimGraph, opt: dict, seed: int):
        self.graph, self.opt, self.seed = graph, opt, seed
        self.n_users, self.n_items = int(opt["n_users"]), int(opt["n_items"])
        if self.n_users <= 0 or self.n_items <= 1 or int(opt["per_user"]) <= 0:
            raise ValueError(f"need n_users > 0, n_items > 1, per_user > 0; got "
                             f"{self.n_users}, {self.n_items}, {opt['per_user']}")
        ss = np.random.SeedSequence(seed)
        r_users, r_items = (np.random.default_rng(s) for s in ss.spawn(2))
        nodes = graph.nodes
        s_intent = nodes["intent"].n_states if "intent" in nodes else None
        k = opt["n_topics"] or s_intent or 4
        self.k = int(k)
        if self.k < 2:
            raise ValueError(f"n_topics must be at least 2, got {self.k}")
        if self.n_items < self.k:
            raise ValueError(f"n_items={self.n_items} is below n_topics={self.k}: every topic "
                             f"needs an item")
        if s_intent and self.k < s_intent:
            raise GraphSpecError(f"graph {graph.name!r}: intent has {s_intent} states but "
                                 f"n_topics={self.k}; need n_topics >= {s_intent}")
        # users: dominant topic and a Dirichlet mixture centred on it
        self.user_topic = r_users.integers(0, self.k, size=self.n_users)
        purity = float(opt["intent_purity"])
        if not 0 <= purity <= 1:
            raise ValueError(f"intent_purity must lie in [0, 1], got {purity}")
        alpha = float(opt["intent_concentration"]) * (
            purity * np.eye(self.k)[self.user_topic] + (1 - purity) / self.k)
        self.mixture = r_users.gamma(np.maximum(alpha, 1e-3))
        self.mixture /= self.mixture.sum(axis=1, keepdims=True)
        self.user_intent = (self.user_topic * (s_intent or self.k)) // self.k
        # items: topic (every topic used), Zipf popularity, equal-mass popularity levels
        self.item_topic = r_items.permutation(np.arange(self.n_items) % self.k)
        ranks = r_items.permutation(self.n_items)
        w = (ranks + 1.0) ** -float(opt["zipf_exponent"])
        self.item_pop = w / w.sum()
        n_pop = max((nodes[n].n_states for n in ("popularity", "conformity") if n in nodes),
                    default=3)
        self.pop_levels = {}
        for name in ("popularity", "conformity"):
            m = nodes[name].n_states if name in nodes else n_pop
            order = np.argsort(-self.item_pop, kind="stable")
            before = np.cumsum(self.item_pop[order]) - self.item_pop[order]
            lev = np.empty(self.n_items, dtype=np.int16)
            lev[order] = (m - 1 - np.minimum((before * m).astype(int), m - 1))
            self.pop_levels[name] = lev
        # candidate sampling tables: cells (topic, popularity level), popularity within a cell
        lev = self.pop_levels["popularity" if "popularity" in nodes else
                              ("conformity" if "conformity" in nodes else "popularity")]
        self.n_lev = int(lev.max()) + 1
        self.lev_mass = np.bincount(lev, weights=self.item_pop, minlength=self.n_lev)
        cell = self.item_topic * self.n_lev + lev
        self.by_cell = np.argsort(cell, kind="stable")
        self.cum = np.cumsum(self.item_pop[self.by_cell])
        n_cells = self.k * self.n_lev
        starts = np.searchsorted(cell[self.by_cell], np.arange(n_cells))
        ends = np.r_[starts[1:], self.n_items]
        self.c_lo = np.where(starts > 0, self.cum[np.maximum(starts - 1, 0)], 0.0)
        self.c_hi = np.where(ends > starts, self.cum[np.maximum(ends - 1, 0)], self.c_lo)
        self.c_start, self.c_end = starts, ends
        self.cell_empty = ends <= starts
        self.model: StructuralModel | None = None
        self.interest_cuts: np.ndarray | None = None

    # ---------------------------------------------------------------- candidates
    def _draw_items(self, users: np.ndarray, how: str, rng: np.random.Generator) -> np.ndarray:
        m = len(users)
        if how == "uniform":
            return rng.integers(0, self.n_items, size=m)
        if how != "logging":
            raise ValueError(f"candidates must be 'logging' or 'uniform', got {how!r}")
        mix = self.mixture[users]
        cdf = np.cumsum(mix, axis=1)
        cdf[:, -1] = 1.0
        topic = np.minimum((rng.random(m)[:, None] >= cdf).sum(axis=1), self.k - 1)
        uni = rng.random(m) >= float(self.opt["candidate_intent"])
        topic = np.where(uni, rng.integers(0, self.k, size=m), topic)
        # popularity level first (independent of the user), then the cell's items by
        # popularity; an empty (topic, level) cell falls back to that topic's other levels
        lev = np.searchsorted(np.cumsum(self.lev_mass), rng.random(m) * self.lev_mass.sum(),
                              side="right")
        lev = np.minimum(lev, self.n_lev - 1)
        cell = topic * self.n_lev + lev
        for _ in range(self.n_lev):
            empty = self.cell_empty[cell]
            if not empty.any():
                break
            cell[empty] = topic[empty] * self.n_lev + (cell[empty] + 1) % self.n_lev
        target = self.c_lo[cell] + rng.random(m) * (self.c_hi[cell] - self.c_lo[cell])
        pos = np.searchsorted(self.cum, target, side="right")
        pos = np.clip(pos, self.c_start[cell], self.c_end[cell] - 1)
        return self.by_cell[pos]

    def rows(self, users: np.ndarray, per_user: int, how: str,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``per_user`` distinct candidate items per user (duplicates redrawn, vectorised)."""
        per_user = int(per_user)
        if per_user > self.n_items:
            raise ValueError(f"per_user={per_user} exceeds n_items={self.n_items}")
        u = np.repeat(np.asarray(users, dtype=np.int64), per_user)
        items = self._draw_items(u, how, rng)
        for _ in range(100):
            key = u * self.n_items + items
            order = np.argsort(key, kind="stable")
            dup_sorted = np.r_[False, key[order][1:] == key[order][:-1]]
            dup = np.zeros(len(key), bool)
            dup[order] = dup_sorted
            if not dup.any():
                break
            # later rounds fall back to uniform items so heavy heads cannot stall
            items[dup] = self._draw_items(u[dup], how if _ < 20 else "uniform", rng)
        else:
            keep = ~dup
            u, items = u[keep], items[keep]
        return {"user": u, "item": items.astype(np.int64)}

    # ---------------------------------------------------------------- roots and equations
    def roots(self, users: np.ndarray, items: np.ndarray) -> tuple[dict, np.ndarray]:
        pref = self.mixture[users, self.item_topic[items]]
        vals: dict[str, np.ndarray] = {}
        for r in self.graph.roots():
            if r == self.graph.treatment:
                continue
            if r == "intent":
                vals[r] = self.user_intent[users].astype(np.int16)
            elif r in ("popularity", "conformity"):
                vals[r] = self.pop_levels[r][items]
            elif r == "interest":
                vals[r] = np.searchsorted(self.interest_cuts, pref, side="right").astype(np.int16)
        return vals, pref

    def build_model(self, pref: np.ndarray) -> None:
        """Resolve weights from the options and the graph (refusing edges it lacks)."""
        g, opt = self.graph, self.opt
        t = g.treatment
        if "interest" in g.nodes:
            m = g.nodes["interest"].n_states
            self.interest_cuts = np.quantile(pref, np.arange(1, m) / m)
        weights = resolve_weights(g, opt)
        het = opt["effect_heterogeneity"]
        het_nodes = [v for v in g.nodes if t in g.parents(v) and "intent" in g.parents(v)]
        if het not in (None, 0, 0.0) and not het_nodes:
            raise GraphSpecError(
                f"graph {g.name!r} ({g.source}): effect_heterogeneity={het} needs a node with "
                f"both edges [{t}, X] and [intent, X]; the graph has none")
        het = 1.0 if het is None else float(het)
        if "interest" in g.nodes:
            pref_node = None
        elif "click" in g.nodes and "click" != t:
            pref_node = "click"
        else:
            pref_node = g.outcome
        eqs = {}
        for v in g.order:
            nd = g.nodes[v]
            ps = g.parents(v)
            if not ps and v != t:
                continue
            eqs[v] = Equation(
                node=v, n_states=nd.n_states, parents=ps,
                weights={p: weights[(p, v)] for p in ps},
                heterogeneity=het if v in het_nodes else 0.0,
                preference=float(opt["preference_weight"]) if v == pref_node else 0.0,
                preference_effect=(float(opt["preference_effect"])
                                   if v == pref_node and t in ps else 0.0))
        self.model = StructuralModel(g, eqs, pref_node, float(pref.mean()))
        self.rates = dict(DEFAULT_RATES)
        self.rates.update(opt.get("rates") or {})

    def _calibrate(self, v: str, vals: dict, pref: np.ndarray, n: int) -> None:
        """Set node v's bias/cutpoints so its marginal on the logged rows is near its rate."""
        e = self.model.eq[v]
        e.bias = 0.0
        e.cutpoints = np.zeros(e.n_states - 1)
        eta = self.model._eta(v, vals, pref, n)
        shift = float(eta.mean())
        rate = self.rates.get(v, self.rates.get("exposure") if v == self.graph.treatment
                              else None)
        if e.n_states == 2:
            p1 = float(rate) if rate is not None else 0.3
            if not 0 < p1 < 1:
                raise ValueError(f"rates[{v!r}] must lie in (0, 1), got {p1}")
            # bisection on the cutpoint so the mean probability on the logged rows is p1
            sub = eta if n <= 200_000 else eta[:: n // 200_000 + 1]
            lo, hi = shift - 30.0, shift + 30.0
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                if (1.0 - _sigmoid(mid - sub)).mean() > p1:
                    lo = mid
                else:
                    hi = mid
            e.cutpoints = np.array([0.5 * (lo + hi)])
        else:
            dist = self.rates.get(v) or DEFAULT_ORDINAL.get(e.n_states) or \
                np.full(e.n_states, 1.0 / e.n_states)
            dist = np.asarray(dist, float)
            if len(dist) != e.n_states or np.any(dist <= 0):
                raise ValueError(f"rates[{v!r}] must be {e.n_states} positive numbers, got {dist}")
            cum = np.cumsum(dist / dist.sum())[:-1]
            e.cutpoints = _logit(cum) + shift

    def run(self, rows: dict, policy: str, propensity: float, rng: np.random.Generator,
            calibrate: bool = False) -> dict:
        """Simulate the graph's nodes on candidate rows under the logging or uniform policy."""
        g, t = self.graph, self.graph.treatment
        users, items = rows["user"], rows["item"]
        n = len(users)
        if calibrate:
            self.build_model(self.mixture[users, self.item_topic[items]])
        vals, pref = self.roots(users, items)
        if policy not in (LOGGING_POLICY, RANDOM_POLICY):
            raise ValueError(f"policy must be {LOGGING_POLICY!r} or {RANDOM_POLICY!r}")
        if policy == RANDOM_POLICY and not 0 < propensity < 1:
            raise ValueError(f"randomized propensity must lie in (0, 1), got {propensity}")
        pol = {t: propensity} if policy == RANDOM_POLICY else None
        m = self.model
        u = {v: rng.random(n) for v in g.order if v in m.eq}
        prop = None
        for v in g.order:
            if v not in m.eq:
                continue
            if calibrate:
                self._calibrate(v, vals, pref, n)
            p = m.probs(v, vals, pref, n, pol)
            if v == t:
                prop = np.clip(p[:, 1], 1e-6, 1.0)
            vals[v] = m.draw(p, u[v])
        # potential outcomes: re-run the treatment's descendants with the same uniforms
        desc = g.descendants(t)
        known = {v: vals[v] for v in vals if v not in desc and v != t}
        pots = {}
        for tv in (0, 1):
            cf = dict(known)
            cf[t] = np.full(n, tv, dtype=np.int16)
            for v in g.order:
                if v in desc:
                    cf[v] = m.draw(m.probs(v, cf, pref, n), u[v])
            pots[tv] = cf
        y = g.outcome
        yv = g.nodes[y].numeric_states()
        out = dict(rows)
        out.update({v: vals[v] for v in g.order})
        out["pref"] = pref
        out["propensity"] = prop
        out["mu0"] = m.expect(y, known, {t: 0}, pref, n)
        out["mu1"] = m.expect(y, known, {t: 1}, pref, n)
        out["y0"] = yv[pots[0][y]]
        out["y1"] = yv[pots[1][y]]
        out["_known"] = known
        return out

    # ---------------------------------------------------------------- truth
    def effects(self, rows: dict) -> dict:
        g, t, y = self.graph, self.graph.treatment, self.graph.outcome
        tau = rows["mu1"] - rows["mu0"]
        yobs = g.nodes[y].numeric_states()[rows[y]]
        tr = rows[t] == 1
        naive = float(yobs[tr].mean() - yobs[~tr].mean()) if tr.any() and (~tr).any() \
            else float("nan")
        users = rows["user"]
        out = {"ate": float(tau.mean()), "naive": naive, "n": len(tau),
               "cate_by_topic": _group_mean(tau, self.user_topic[users], self.k)}
        if "intent" in g.nodes:
            out["cate_by_intent"] = _group_mean(tau, rows["intent"], g.nodes["intent"].n_states)
        else:
            out["cate_by_intent"] = out["cate_by_topic"]
        out["mediation"] = self.mediation(rows)
        return out

    def mediation(self, rows: dict) -> dict:
        """Natural direct and indirect effects of the treatment on the outcome (and on
        ``purchase`` when it is another descendant), via every mediator jointly."""
        g, t, m = self.graph, self.graph.treatment, self.model
        out = {}
        targets = [g.outcome] + [v for v in ("purchase",) if v in g.nodes and v != g.outcome]
        n = len(rows["user"])
        known = rows["_known"]
        for y in targets:
            if y not in g.descendants(t):
                continue
            mediators = [v for v in g.order if v in g.descendants(t) and v in g.ancestors(y)]
            y11, y00, y10 = (m.expect(y, known, {t: a}, rows["pref"], n, {t: b}).mean()
                             for a, b in ((1, 1), (0, 0), (1, 0)))
            out[y] = {"treatment": t, "outcome": y, "mediators": mediators,
                      "total": float(y11 - y00), "natural_direct": float(y10 - y00),
                      "natural_indirect": float(y11 - y10)}
        return out

    # ---------------------------------------------------------------- oracle
    def expected(self, users: np.ndarray, items: np.ndarray, treatment: int,
                 target: str | None = None) -> np.ndarray:
        g = self.graph
        target = target or g.outcome
        if target not in g.nodes:
            raise ValueError(f"unknown target node {target!r}; graph nodes: {list(g.nodes)}")
        users, items = users.reshape(-1), items.reshape(-1)
        vals, pref = self.roots(users, items)
        return self.model.expect(target, vals, {g.treatment: int(treatment)}, pref, len(users))

    def policy_value(self, scores, k: int, users=None, target=None, uplift=False,
                     exclude=None) -> float:
        s = np.asarray(scores.detach().cpu().numpy() if hasattr(scores, "detach") else scores,
                       dtype=float)
        if s.ndim != 2 or s.shape[1] != self.n_items:
            raise ValueError(f"scores must be [n_users, {self.n_items}], got {s.shape}")
        users = np.arange(len(s)) if users is None else np.asarray(users, dtype=np.int64)
        if len(users) != len(s):
            raise ValueError(f"scores has {len(s)} rows but {len(users)} users were given")
        if users.max(initial=0) >= self.n_users or users.min(initial=0) < 0:
            raise ValueError(f"users must lie in 0..{self.n_users - 1}")
        if not 1 <= k <= self.n_items:
            raise ValueError(f"k must lie in 1..{self.n_items}, got {k}")
        if exclude is not None:
            ex = exclude.toarray() if hasattr(exclude, "toarray") else np.asarray(exclude)
            s = np.where(ex.astype(bool), -np.inf, s)
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        uu = np.repeat(users, k)
        v = self.expected(uu, top.reshape(-1), 1, target)
        if uplift:
            v = v - self.expected(uu, top.reshape(-1), 0, target)
        return float(v.mean())


def _group_mean(x: np.ndarray, groups: np.ndarray, n: int) -> dict:
    cnt = np.bincount(groups, minlength=n)
    tot = np.bincount(groups, weights=x, minlength=n)
    return {int(i): (float(tot[i] / cnt[i]) if cnt[i] else float("nan")) for i in range(n)}


def _edge_key(key) -> tuple[str, str]:
    if isinstance(key, str):
        for sep in ("->", ","):
            if sep in key:
                a, b = key.split(sep, 1)
                return a.strip(), b.strip()
        raise ValueError(f"edge_weights key {key!r}: write an edge as 'source->target'")
    a, b = key
    return str(a), str(b)


def resolve_weights(g: SimGraph, opt: dict) -> dict[tuple[str, str], float]:
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
    if conf < 0:
        raise ValueError(f"confounding must be >= 0, got {conf}")
    for a, b in g.edges:
        if b == t:
            w[(a, b)] *= conf
    for knob, (src, dst) in KNOB_EDGES.items():
        val = opt.get(knob)
        if val is None:
            continue
        src = t if src == "T" else src
        if dst == "click|outcome":
            dst = "click" if "click" in g.nodes else g.outcome
        dst = {"T": t, "outcome": g.outcome}.get(dst, dst)
        if (src, dst) not in w:
            if float(val) == 0.0:
                continue
            raise GraphSpecError(f"{where}: mechanism {knob}={val} needs the edge [{src}, {dst}], "
                                 f"which the graph does not have (edges: "
                                 f"{[list(e) for e in g.edges]})")
        w[(src, dst)] = float(val) * (conf if dst == t else 1.0)
    for key, val in (opt.get("edge_weights") or {}).items():
        e = _edge_key(key)
        if e not in w:
            if float(val) == 0.0:
                continue
            raise GraphSpecError(f"{where}: edge_weights sets [{e[0]}, {e[1]}] = {val}, but the "
                                 f"graph has no such edge (edges: {[list(x) for x in g.edges]})")
        w[e] = float(val)
    return w


# ============================================================================ entry points
def simulate(graph="popularity_bias", **options) -> SimulationResult:
    """Simulate a recommendation world from a declared graph; see the module docstring.

    Args:
        graph: a name in ``conf/graph/``, a YAML path, a mapping or a GraphSpec. A
            ``mechanisms:`` section in the graph sets defaults for the options below.
        n_users, n_items, per_user: sizes (``per_user`` logged candidate rows per user).
        n_topics: topics K (default: the intent node's states, else 4).
        intent_purity, intent_concentration: how concentrated users' mixtures are.
        zipf_exponent: item popularity ~ rank^-s.
        candidate_intent: share of candidates drawn from the user's topic mixture.
        confounding: scales every edge into the treatment (0: exposure independent of its
            causes, i.e. no confounding; the naive estimate is then unbiased).
        popularity_bias, intent_bias, exposure_effect, direct_effect: weights of single edges
            (refused when the graph lacks the edge); edge_weights: {"a->b": w} for any edge.
        rates: marginal rate per binary node (or a distribution for an ordinal node).
        effect_heterogeneity: weight of treatment x intent on nodes with both as parents.
        preference_weight, preference_effect: the user-item preference's effect on its node
            and its modification of the treatment's effect there.
        text_noise, item_text_noise, user_sentences: the text views.
        randomized_users, randomized_per_user, randomized_propensity: the randomized test set.
        seed: everything is deterministic given it.
    """
    g = read_graph(graph)
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown simulator options {sorted(unknown)}; valid: {sorted(DEFAULTS)}")
    bad_mech = set(g.mechanisms) - set(DEFAULTS)
    if bad_mech:
        raise GraphSpecError(f"graph {g.name!r} ({g.source}): unknown keys in mechanisms: "
                             f"{sorted(bad_mech)}")
    opt = {**DEFAULTS, **g.mechanisms, **options}
    seed = int(opt["seed"])
    world = _World(g, opt, seed)
    ss = np.random.SeedSequence([seed, 1])
    r_cand, r_noise, r_test, r_rcand, r_rnoise, r_text = (np.random.default_rng(s)
                                                           for s in ss.spawn(6))
    rows = world.rows(np.arange(world.n_users), opt["per_user"], "logging", r_cand)
    rows = world.run(rows, LOGGING_POLICY, 0.5, r_noise, calibrate=True)
    eff = world.effects(rows)

    frac = float(opt["randomized_users"])
    if not 0 <= frac <= 1:
        raise ValueError(f"randomized_users must lie in [0, 1], got {frac}")
    n_test = int(round(frac * world.n_users))
    test_users = np.sort(r_test.choice(world.n_users, size=n_test, replace=False)) \
        if n_test else np.zeros(0, np.int64)
    if n_test:
        rrows = world.rows(test_users, opt["randomized_per_user"] or opt["per_user"], "uniform",
                           r_rcand)
        rrows = world.run(rrows, RANDOM_POLICY, float(opt["randomized_propensity"]), r_rnoise)
        reff = world.effects(rrows)
    else:
        rrows, reff = None, {}

    noise = float(opt["text_noise"])
    inoise = noise if opt["item_text_noise"] is None else float(opt["item_text_noise"])
    utext = user_texts(r_text, world.mixture, int(opt["user_sentences"]), noise)
    itext = item_texts(r_text, world.item_topic, world.k, inoise)

    truth = SimulationTruth(
        graph=g.name, treatment=g.treatment, outcome=g.outcome,
        propensity=rows["propensity"], mu0=rows["mu0"], mu1=rows["mu1"], y0=rows["y0"],
        y1=rows["y1"], ate=eff["ate"], cate_by_intent=eff["cate_by_intent"],
        cate_by_topic=eff["cate_by_topic"], mediation=eff["mediation"], naive=eff["naive"],
        user_intent=world.user_intent, user_topic=world.user_topic, user_mixture=world.mixture,
        item_topic=world.item_topic, item_popularity=world.item_pop,
        randomized={**{k: v for k, v in reff.items()},
                    **({"propensity": rrows["propensity"], "mu0": rrows["mu0"],
                        "mu1": rrows["mu1"], "y0": rrows["y0"], "y1": rrows["y1"],
                        "users": test_users} if rrows is not None else {})},
        options={k: v for k, v in opt.items()}, world=world)

    item_features = pd.DataFrame({"topic": world.item_topic, "popularity": world.item_pop,
                                  "popularity_level": world.pop_levels["popularity"]})
    name = f"synthetic/{g.name}"
    src = f"causalrec.sim.world(graph={g.name!r}, seed={seed})"
    common = dict(n_users=world.n_users, n_items=world.n_items,
                  user_ids=np.array([f"u{i}" for i in range(world.n_users)], dtype=object),
                  item_ids=np.array([f"i{i}" for i in range(world.n_items)], dtype=object),
                  item_features=item_features, user_text=utext, item_text=itext, source=src)
    meta = {"truth": truth, "graph": g.to_dict(), "treatment": g.treatment,
            "outcome": g.outcome, "policy_column": "policy", "logging_policy": LOGGING_POLICY,
            "randomized_policy": RANDOM_POLICY}
    data = InteractionData(interactions=_table(g, rows, LOGGING_POLICY), name=name,
                           meta=dict(meta), **common)
    rtable = _table(g, rrows, RANDOM_POLICY) if rrows is not None else \
        _table(g, None, RANDOM_POLICY, like=data.interactions)
    empty = {"allow_empty": True} if rrows is None else {}
    randomized = InteractionData(interactions=rtable, name=f"{name}/randomized",
                                 meta=dict(meta), **common, **empty)
    frames = {"logs": {v: rows[v] for v in g.order}}
    frames["randomized"] = {v: (rrows[v] if rrows is not None else np.zeros(0, np.int16))
                            for v in g.order}
    return SimulationResult(data=data, randomized=randomized, truth=truth, graph=g,
                            frames=frames)


def _table(g: SimGraph, rows: dict | None, policy: str, like: pd.DataFrame | None = None):
    """The interactions table: user, item, observed node values, exposure, propensity,
    label/rating, policy, and the row's ground truth (true_mu0/mu1, true_y0/y1)."""
    if rows is None:
        return like.iloc[:0].copy()
    t, y = g.treatment, g.outcome
    cols: dict[str, Any] = {"user": rows["user"].astype(np.int64),
                            "item": rows["item"].astype(np.int64)}
    for v in g.order:
        if not g.nodes[v].latent:
            cols[v] = g.nodes[v].numeric_states()[rows[v]].astype(np.float32)
    cols["exposure"] = rows[t].astype(np.float32)
    cols["propensity"] = rows["propensity"].astype(np.float64)
    yv = g.nodes[y].numeric_states()[rows[y]]
    if g.nodes[y].n_states == 2:
        cols["label"] = yv.astype(np.float32)
    else:
        cols["rating"] = yv.astype(np.float32)
        if "click" in g.nodes and not g.nodes["click"].latent:
            cols["label"] = cols["click"]
    if "rating" in g.nodes and "rating" not in cols:
        cols["rating"] = g.nodes["rating"].numeric_states()[rows["rating"]].astype(np.float32)
    cols["policy"] = np.full(len(rows["user"]), policy, dtype=object)
    for k in ("mu0", "mu1", "y0", "y1"):
        cols[f"true_{k}"] = np.asarray(rows[k], dtype=np.float32)
    return pd.DataFrame(cols)


def load_synthetic(graph="popularity_bias", include_randomized: bool = True,
                   **options) -> InteractionData:
    """The ``synthetic`` dataset: :func:`simulate`'s logs (and, by default, its randomized
    rows, ``policy == "random"``) as one InteractionData; truth in ``meta["truth"]``."""
    res = simulate(graph, **options)
    data = res.combined() if include_randomized else res.data
    data.meta["simulation"] = res
    return data
