"""The simulated world: users, items, candidate rows and the structural model that draws them.

One declared graph (``conf/graph/*.yaml``, a :class:`~causalrec.graphs.GraphSpec`) is the source
of truth: its nodes are the variables of every simulated (user, item) row and their parents are
exactly the graph's parents (equations in :mod:`causalrec.sim.equations`). Around the graph,
:class:`World` builds a recommendation world:

* **users** have a latent intent: a mixture over ``K`` topics drawn from a Dirichlet centred on
  a dominant topic (the graph's ``intent`` node is that topic, merged into the node's states
  when ``K`` exceeds them);
* **items** have a topic and a Zipf popularity (Zipf 1949; the graph's ``popularity`` node is
  the popularity binned into equal-mass levels, most popular last);
* **candidate rows**: each user gets ``per_user`` distinct items (a topic from the user's
  mixture with probability ``candidate_intent``, else uniform; an item within the topic by
  popularity), or uniformly random items for the randomized test set;
* **drawing a row**: the roots come from the world, every other node from its equation; the
  treatment (exposure) is the logging policy - missing not at random, its dependence on
  intent and popularity scaled by ``confounding`` - or a constant propensity (randomized
  rows, like Coat and Yahoo! R3; Schnabel et al. 2016). Potential outcomes re-run the
  treatment's descendants with the same uniforms; their expectations are exact.

Ground truth computed from a world (ATE, CATE, mediation, policy values) is in
:mod:`causalrec.sim.truth`; :func:`causalrec.sim.simulate` ties it together. Everything is
vectorised NumPy and deterministic given the seed.
"""

from __future__ import annotations

import numpy as np

from ..data.schema import RANDOMIZED
from ..graphs.spec import GraphSpec, GraphValidationError
from .equations import Equation, StructuralModel, _logit, _sigmoid
from .mechanisms import DEFAULT_ORDINAL, resolve_rates, resolve_weights

LOGGING_POLICY = "logging"
RANDOM_POLICY = RANDOMIZED  # the one randomized-row marker (causalrec.data.schema)
#: rows whose exposure a deployed recommender chose (closed loops, :mod:`causalrec.sim.loop`)
DEPLOYED_POLICY = "deployed"


class World:
    """Users, items, the structural model, and the row generator of one simulation."""

    def __init__(self, graph: GraphSpec, opt: dict, seed: int):
        self.graph, self.opt, self.seed = graph, opt, seed
        self.n_users, self.n_items = int(opt["n_users"]), int(opt["n_items"])
        ss = np.random.SeedSequence(seed)
        r_users, r_items = (np.random.default_rng(s) for s in ss.spawn(2))
        s_intent = graph["intent"].cardinality if "intent" in graph else None
        k = opt["n_topics"] or s_intent or 4
        self.k = int(k)
        if self.n_items < self.k:
            raise ValueError(f"n_items={self.n_items} is below n_topics={self.k}: every topic "
                             f"needs an item")
        if s_intent and self.k < s_intent:
            raise GraphValidationError(f"graph {graph.name!r}: intent has {s_intent} states but "
                                       f"n_topics={self.k}; need n_topics >= {s_intent}")
        # users: dominant topic and a Dirichlet mixture centred on it
        self.user_topic = r_users.integers(0, self.k, size=self.n_users)
        purity = float(opt["intent_purity"])
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
        n_pop = max((graph[n].cardinality for n in ("popularity", "conformity") if n in graph),
                    default=3)
        self.pop_levels = {}
        for name in ("popularity", "conformity"):
            m = graph[name].cardinality if name in graph else n_pop
            order = np.argsort(-self.item_pop, kind="stable")
            before = np.cumsum(self.item_pop[order]) - self.item_pop[order]
            lev = np.empty(self.n_items, dtype=np.int16)
            lev[order] = (m - 1 - np.minimum((before * m).astype(int), m - 1))
            self.pop_levels[name] = lev
        # candidate sampling tables: cells (topic, popularity level), popularity within a cell
        lev = self.pop_levels["popularity" if "popularity" in graph else
                              ("conformity" if "conformity" in graph else "popularity")]
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
        for r in self.graph.roots:
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
        if "interest" in g:
            m = g["interest"].cardinality
            self.interest_cuts = np.quantile(pref, np.arange(1, m) / m)
        weights = resolve_weights(g, opt)
        het = opt["effect_heterogeneity"]
        het_nodes = [v for v in g.node_names if t in g.parents(v) and "intent" in g.parents(v)]
        if het not in (None, 0, 0.0) and not het_nodes:
            raise GraphValidationError(
                f"graph {g.name!r} ({g.source}): effect_heterogeneity={het} needs a node with "
                f"both edges [{t}, X] and [intent, X]; the graph has none")
        het = 1.0 if het is None else float(het)
        if "interest" in g:
            pref_node = None
        elif "click" in g and "click" != t:
            pref_node = "click"
        else:
            pref_node = g.outcome
        eqs = {}
        for v in g.order:
            nd = g[v]
            ps = g.parents(v)
            if not ps and v != t:
                continue
            eqs[v] = Equation(
                node=v, n_states=nd.cardinality, parents=ps,
                weights={p: weights[(p, v)] for p in ps},
                heterogeneity=het if v in het_nodes else 0.0,
                preference=float(opt["preference_weight"]) if v == pref_node else 0.0,
                preference_effect=(float(opt["preference_effect"])
                                   if v == pref_node and t in ps else 0.0))
        self.model = StructuralModel(g, eqs, pref_node, float(pref.mean()))
        self.rates = resolve_rates(g, opt)

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
        if policy not in (LOGGING_POLICY, RANDOM_POLICY, DEPLOYED_POLICY):
            raise ValueError(f"policy must be {LOGGING_POLICY!r}, {RANDOM_POLICY!r} or "
                             f"{DEPLOYED_POLICY!r}")
        if policy == RANDOM_POLICY and not 0 < propensity < 1:
            raise ValueError(f"randomized propensity must lie in (0, 1), got {propensity}")
        if policy == DEPLOYED_POLICY:  # a recommender's own per-row exposure probabilities
            propensity = np.asarray(propensity, dtype=np.float64)
            if propensity.shape != (n,) or not np.all((propensity >= 0) & (propensity <= 1)):
                raise ValueError(f"a deployed policy needs one propensity in [0, 1] per row "
                                 f"({n}), got shape {propensity.shape}")
        pol = {t: propensity} if policy in (RANDOM_POLICY, DEPLOYED_POLICY) else None
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
                prop = p[:, 1] if policy == DEPLOYED_POLICY else np.clip(p[:, 1], 1e-6, 1.0)
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
        yv = g[y].numeric_states()
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
