"""Closed loops: a recommender deployed in the simulated world, retrained on the data its
own recommendations produced (Chaney, Stewart and Engelhardt 2018; Mansoury et al. 2020).

:class:`LoopWorld` is the environment. Round 0 is the static simulator's log (the logging
policy, :func:`causalrec.sim.simulate`); in each later round every user gets ``candidates``
candidate items (drawn as the logs draw them), the deployed policy turns its scores into
per-candidate exposure probabilities (:func:`exposure_propensities`, known exactly: the rows
carry them as ``propensity``), and the structural model draws exposure and outcomes with the
same equations and coupled potential outcomes as the static log. The rows of a round carry
``policy == "deployed"``, ``round`` and their ground truth (``true_mu0``/``true_mu1``).

Training the deployed model is the caller's (the ``loop`` task, :mod:`causalrec.experiment
.tasks.loop`, retrains a head through the Recommender each round): this module needs no model
and so stays below them in the layer order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .simulation import SimulationResult, _table, simulate
from .world import DEPLOYED_POLICY

POLICIES = ("softmax", "topk")


def exposure_propensities(scores: np.ndarray, k: int, policy: str = "softmax",
                          temperature: float = 1.0, epsilon: float = 0.05) -> np.ndarray:
    """Per-candidate exposure probabilities from scores ``[n_users, n_candidates]``.

    ``softmax``: ``k`` independent draws from ``pi = (1 - epsilon) softmax(scores /
    temperature) + epsilon / n_candidates`` (uniform exploration keeps every candidate's
    propensity positive, as inverse-propensity estimators need); a candidate is shown when
    drawn at least once, with probability ``1 - (1 - pi)^k``. ``topk``: the ``k`` best
    candidates are shown with probability ``1 - epsilon`` and every candidate with
    ``epsilon * k / n_candidates`` besides (epsilon-greedy). Probabilities are floored at
    ``1e-9`` (a log's propensities lie in (0, 1]).
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or not np.isfinite(s).all():
        raise ValueError("scores must be a finite [n_users, n_candidates] array")
    m = s.shape[1]
    if not 1 <= int(k) <= m:
        raise ValueError(f"loop k must lie in 1..{m} (candidates per user), got {k}")
    if policy == "softmax":
        if not float(temperature) > 0:
            raise ValueError(f"loop temperature must be > 0, got {temperature}")
        if not 0 <= float(epsilon) <= 1:
            raise ValueError(f"loop epsilon must lie in [0, 1], got {epsilon}")
        z = s / float(temperature)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        pi = (1 - float(epsilon)) * z / z.sum(axis=1, keepdims=True) + float(epsilon) / m
        return np.clip(1.0 - (1.0 - pi) ** int(k), 1e-9, 1.0)
    if policy == "topk":
        if not 0 <= float(epsilon) <= 1:
            raise ValueError(f"loop epsilon must lie in [0, 1], got {epsilon}")
        top = np.argsort(-s, axis=1, kind="stable")[:, :int(k)]
        p = np.full(s.shape, float(epsilon) * int(k) / m)
        np.put_along_axis(p, top, (1.0 - float(epsilon)) + float(epsilon) * int(k) / m, axis=1)
        return np.clip(p, 1e-9, 1.0)
    raise ValueError(f"loop policy must be one of {POLICIES}, got {policy!r}")


class LoopWorld:
    """One simulated world a recommender is deployed in, round after round.

    Args:
        graph, options: as for :func:`causalrec.sim.simulate` (round 0 is exactly its log).
        candidates: candidate items per user and round (default: the log's ``per_user``).
    """

    def __init__(self, graph="popularity_bias", candidates: int | None = None, **options):
        options.setdefault("randomized_users", 0.0)
        self.result: SimulationResult = simulate(graph, **options)
        self.world = self.result.truth.world
        self.graph = self.result.graph
        self.candidates = int(candidates or self.world.opt["per_user"])
        if not 1 <= self.candidates <= self.world.n_items:
            raise ValueError(f"loop candidates must lie in 1..{self.world.n_items}, got "
                             f"{candidates}")

    @property
    def n_users(self) -> int:
        return self.world.n_users

    @property
    def n_items(self) -> int:
        return self.world.n_items

    def initial_log(self) -> pd.DataFrame:
        """Round 0: the static simulator's logged rows (``round`` = 0)."""
        return self.result.data.interactions.assign(round=0)

    def candidates_for(self, round_: int) -> dict[str, np.ndarray]:
        """Round ``round_``'s candidate (user, item) rows, ``candidates`` per user."""
        rng = np.random.default_rng([self.world.seed, 104729, int(round_)])
        return self.world.rows(np.arange(self.n_users), self.candidates, "logging", rng)

    def step(self, round_: int, scores: np.ndarray, k: int, policy: str = "softmax",
             temperature: float = 1.0, epsilon: float = 0.05) -> pd.DataFrame:
        """Deploy ``scores`` (``[n_users, n_items]``, the recommender's) for one round and
        return its logged rows (every candidate, exposed or not, with its propensity)."""
        if int(round_) < 1:
            raise ValueError(f"deployed rounds start at 1 (round 0 is the static log), got "
                             f"{round_}")
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (self.n_users, self.n_items):
            raise ValueError(f"scores must be [n_users, n_items] = [{self.n_users}, "
                             f"{self.n_items}], got {scores.shape}")
        rows = self.candidates_for(round_)
        cand = scores[rows["user"], rows["item"]].reshape(self.n_users, -1)
        p = exposure_propensities(cand, k, policy, temperature, epsilon).reshape(-1)
        rng = np.random.default_rng([self.world.seed, 130363, int(round_)])
        rows = self.world.run(rows, DEPLOYED_POLICY, p, rng)
        return _table(self.graph, rows, DEPLOYED_POLICY).assign(round=int(round_))

    def expected(self, users, items, treatment: int) -> np.ndarray:
        """The oracle E[outcome | do(treatment)] for (user, item) pairs."""
        return self.result.truth.expected_outcomes(users, items, treatment)
