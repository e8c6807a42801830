"""Random bandit logs for tests, examples and benchmarks: the one place they are made."""

from __future__ import annotations

import numpy as np

from .feedback import LoggedFeedback


def random_feedback(n: int, n_actions: int, n_positions: int, seed=0, reward_rate: float = 0.3,
                    pscore: str | tuple[float, float] = "uniform", context_dim: int = 0,
                    row_ids: bool = False) -> LoggedFeedback:
    """A log of ``n`` rounds from the uniform-random policy (``pscore="uniform"``: ``1 /
    n_actions``) or with propensities drawn uniformly from ``pscore = (low, high)``;
    Bernoulli(``reward_rate``) rewards; ``context_dim`` standard-normal context features
    (``row_ids`` prepends the round index as feature 0). ``seed`` may be a Generator."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    action = rng.integers(0, n_actions, n)
    reward = rng.binomial(1, reward_rate, n)
    ps = (np.full(n, 1.0 / n_actions) if isinstance(pscore, str) and pscore == "uniform"
          else rng.uniform(pscore[0], pscore[1], n))
    position = rng.integers(0, n_positions, n)
    context = rng.normal(size=(n, context_dim)) if context_dim else None
    if row_ids:
        context = np.c_[np.arange(n), context] if context is not None else np.arange(n)[:, None]
    return LoggedFeedback.build(action=action, reward=reward, pscore=ps, position=position,
                                context=context, n_actions=n_actions, n_positions=n_positions)


def random_action_dist(n: int, n_actions: int, n_positions: int, seed=0) -> np.ndarray:
    """An evaluation policy ``[n, n_actions, n_positions]``: a Dirichlet(1) distribution over
    actions per round and slot (``n = 1`` gives one shared by every round)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.dirichlet(np.ones(n_actions), size=(n, n_positions)).transpose(0, 2, 1)
