"""``simulate``: a recommendation world from a declared graph, its logs and its ground truth.

:func:`simulate` reads the graph (:mod:`causalrec.sim.graph`), merges and checks the options
(:mod:`causalrec.sim.mechanisms`), builds the :class:`~causalrec.sim.world.World`, draws the
logged rows under the biased logging policy and a randomized test set for held-out users,
writes the text views (:mod:`causalrec.sim.text`), and computes the ground truth
(:mod:`causalrec.sim.truth`). It returns a :class:`SimulationResult`: two
:class:`~causalrec.data.InteractionData` (their ``meta`` JSON-able: the graph, the roles and
the truth's summary; per-row truth is in the ``propensity`` and ``true_*`` columns) and the
:class:`~causalrec.sim.truth.SimulationTruth`, which keeps the arrays and the world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..data.schema import InteractionData
from ..graphs.spec import GraphSpec
from .graph import read_graph
from .mechanisms import resolve_options
from .text import topic_item_texts, topic_user_texts
from .truth import SimulationTruth, effects
from .world import LOGGING_POLICY, RANDOM_POLICY, World


@dataclass
class SimulationResult:
    """What :func:`simulate` returns: the logs, the randomized test set, the truth."""

    data: InteractionData          # biased logged rows (policy "logging")
    randomized: InteractionData    # randomized-exposure rows for held-out users
    truth: SimulationTruth
    graph: GraphSpec
    frames: dict = field(default_factory=dict)  # state indices per node, "logs"/"randomized"

    def combined(self) -> InteractionData:
        """Logs and randomized rows in one InteractionData, told apart by ``policy``."""
        inter = pd.concat([self.data.interactions, self.randomized.interactions],
                          ignore_index=True)
        return self.data.with_interactions(inter, name=self.data.name)

    def to_discrete_frame(self, which: str = "logs", include_latent: bool = True) -> pd.DataFrame:
        """One column per graph node (intent discretised to the node's states), values are
        the graph's state labels: ready for ``causalrec.graphs.fit`` and ``do_query``.

        Example:
            >>> from causalrec.sim import simulate
            >>> result = simulate("popularity_bias", n_users=30, n_items=20, per_user=5)
            >>> frame = result.to_discrete_frame()
            >>> frame.columns.tolist(), len(frame)
            (['popularity', 'intent', 'exposure', 'click'], 150)
            >>> rows = result.data.interactions   # the same rows, in the same order
            >>> bool((frame.exposure == rows.exposure).all() and (frame.click == rows.click).all())
            True
            >>> result.to_discrete_frame(include_latent=False).columns.tolist()
            ['popularity', 'exposure', 'click']
        """
        if which == "all":
            return pd.concat([self.to_discrete_frame("logs", include_latent),
                              self.to_discrete_frame("randomized", include_latent)],
                             ignore_index=True)
        if which not in self.frames:
            raise ValueError(f"which must be 'logs', 'randomized' or 'all', got {which!r}")
        idx = self.frames[which]
        cols = {}
        for name in self.graph.order:
            node = self.graph[name]
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
        return frame, effects(w, rows)


def simulate(graph="popularity_bias", **options) -> SimulationResult:
    """Simulate a recommendation world from a declared graph (:mod:`causalrec.sim`).

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

    Raises:
        GraphValidationError: the graph is malformed, or the simulator cannot honour it or a
            mechanism (an edge it lacks, a rate for a node it lacks).
        ValueError: an option's value is out of range or of the wrong type (named).
        TypeError: an unknown option.

    Example:
        Popular items are shown more and clicked more, so the naive difference of click
        rates between shown and not-shown rows overstates the effect of showing; the truth
        (the mean of ``mu1 - mu0``, each row's click probability with and without exposure)
        comes with the data:

        >>> from causalrec.sim import simulate
        >>> result = simulate("popularity_bias", n_users=30, n_items=20, per_user=5, seed=0)
        >>> d = result.data.interactions
        >>> len(d), result.data.n_users, result.data.n_items
        (150, 30, 20)
        >>> shown = d.exposure == 1
        >>> naive = float(d.click[shown].mean() - d.click[~shown].mean())
        >>> round(naive, 3), round(result.truth.naive, 3)
        (0.228, 0.228)
        >>> round(result.truth.ate, 3), round(float((d.true_mu1 - d.true_mu0).mean()), 3)
        (0.159, 0.159)
    """
    g = read_graph(graph)
    opt = resolve_options(g, options)
    seed = int(opt["seed"])
    world = World(g, opt, seed)
    ss = np.random.SeedSequence([seed, 1])
    r_cand, r_noise, r_test, r_rcand, r_rnoise, r_text = (np.random.default_rng(s)
                                                           for s in ss.spawn(6))
    rows = world.rows(np.arange(world.n_users), opt["per_user"], "logging", r_cand)
    rows = world.run(rows, LOGGING_POLICY, 0.5, r_noise, calibrate=True)
    eff = effects(world, rows)

    n_test = int(round(float(opt["randomized_users"]) * world.n_users))
    test_users = np.sort(r_test.choice(world.n_users, size=n_test, replace=False)) \
        if n_test else np.zeros(0, np.int64)
    if n_test:
        rrows = world.rows(test_users, opt["randomized_per_user"] or opt["per_user"], "uniform",
                           r_rcand)
        rrows = world.run(rrows, RANDOM_POLICY, float(opt["randomized_propensity"]), r_rnoise)
        reff = effects(world, rrows)
    else:
        rrows, reff = None, {}

    noise = float(opt["text_noise"])
    inoise = noise if opt["item_text_noise"] is None else float(opt["item_text_noise"])
    utext = topic_user_texts(r_text, world.mixture, int(opt["user_sentences"]), noise)
    itext = topic_item_texts(r_text, world.item_topic, world.k, inoise)

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
    src = f"causalrec.sim.simulate(graph={g.name!r}, seed={seed})"
    common = dict(n_users=world.n_users, n_items=world.n_items,
                  user_ids=np.array([f"u{i}" for i in range(world.n_users)], dtype=object),
                  item_ids=np.array([f"i{i}" for i in range(world.n_items)], dtype=object),
                  item_features=item_features, user_text=utext, item_text=itext, source=src)
    meta = {"truth": truth.summary(), "graph": g.to_dict(), "treatment": g.treatment,
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


def _table(g: GraphSpec, rows: dict | None, policy: str, like: pd.DataFrame | None = None):
    """The interactions table: user, item, observed node values, exposure, propensity (the
    true one), label/rating, policy, and the row's ground truth (true_mu0/mu1, true_y0/y1)."""
    if rows is None:
        return like.iloc[:0].copy()
    t, y = g.treatment, g.outcome
    cols: dict[str, Any] = {"user": rows["user"].astype(np.int64),
                            "item": rows["item"].astype(np.int64)}
    for v in g.order:
        if not g[v].latent:
            cols[v] = g[v].numeric_states()[rows[v]].astype(np.float32)
    cols["exposure"] = rows[t].astype(np.float32)
    cols["propensity"] = rows["propensity"].astype(np.float64)
    yv = g[y].numeric_states()[rows[y]]
    if g[y].cardinality == 2:
        cols["label"] = yv.astype(np.float32)
    else:
        cols["rating"] = yv.astype(np.float32)
        if "click" in g and not g["click"].latent:
            cols["label"] = cols["click"]
    if "rating" in g and "rating" not in cols:
        cols["rating"] = g["rating"].numeric_states()[rows["rating"]].astype(np.float32)
    cols["policy"] = np.full(len(rows["user"]), policy, dtype=object)
    for k in ("mu0", "mu1", "y0", "y1"):
        cols[f"true_{k}"] = np.asarray(rows[k], dtype=np.float32)
    return pd.DataFrame(cols)


def load_synthetic(graph="popularity_bias", include_randomized: bool = True,
                   **options) -> InteractionData:
    """The ``synthetic`` dataset: :func:`simulate`'s logs (and, by default, its randomized
    rows, ``policy == "random"``) as one InteractionData. Its ``meta["truth"]`` is the
    JSON-able summary (ATE, CATE, mediation); per-row truth is in the ``propensity`` and
    ``true_*`` columns; call :func:`simulate` with the same options for the arrays.

    Example:
        10% of the users (3 of 30) get 5 randomized rows each:

        >>> from causalrec.sim import load_synthetic
        >>> data = load_synthetic(n_users=30, n_items=20, per_user=5)
        >>> data.interactions.policy.value_counts().to_dict()
        {'logging': 150, 'random': 15}
        >>> round(data.meta["truth"]["ate"], 3)
        0.159
    """
    res = simulate(graph, **options)
    return res.combined() if include_randomized else res.data
