"""A small generated implicit-feedback dataset (latent-factor preferences + popularity).

Not a causal simulator (that is :mod:`causalrec.sim`): a quick, deterministic
interaction set with learnable structure, for smoke runs and tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import InteractionData


def generate_interactions(n_users: int = 300, n_items: int = 400, per_user: int = 20,
                          dim: int = 8, popularity_skew: float = 1.0, temperature: float = 0.5,
                          seed: int = 0) -> InteractionData:
    """Sample ``per_user`` distinct items per user from softmax(<u, v>/T + skew*log pop).

    Returns implicit feedback (``label`` = 1) with timestamps, so every split protocol works.
    """
    if n_users <= 0 or n_items <= 0 or per_user <= 0 or per_user > n_items:
        raise ValueError(f"need n_users, n_items > 0 and 0 < per_user <= n_items; got "
                         f"{n_users=}, {n_items=}, {per_user=}")
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_users, dim)) / np.sqrt(dim)
    v = rng.normal(size=(n_items, dim))
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    rng.shuffle(pop)
    logits = (u @ v.T) / temperature + popularity_skew * np.log(pop)[None, :]
    # Gumbel top-k: sampling without replacement proportional to softmax(logits), vectorised
    g = logits + rng.gumbel(size=logits.shape)
    items = np.argpartition(-g, per_user - 1, axis=1)[:, :per_user]
    users = np.repeat(np.arange(n_users), per_user)
    items = items.reshape(-1)
    ts = rng.permutation(len(users)).astype(np.float64)
    df = pd.DataFrame({"user": users.astype(np.int64), "item": items.astype(np.int64),
                       "label": np.ones(len(users), dtype=np.float32), "timestamp": ts})
    return InteractionData(
        interactions=df, n_users=n_users, n_items=n_items,
        user_ids=np.array([f"u{i}" for i in range(n_users)], dtype=object),
        item_ids=np.array([f"i{i}" for i in range(n_items)], dtype=object),
        name="generated", source=f"generate_interactions(seed={seed})",
    )
