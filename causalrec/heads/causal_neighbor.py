"""Causality-aware user-based neighbourhood (CUBN; Sato, Singh, Takemori, Sonoda, Zhang and
Ohkuma 2021, "Causality-aware neighborhood methods for recommender systems", ECIR).

A neighbourhood method whose neighbours vote with the *effect* of recommending an item, not
with its purchase: each logged pair gets the inverse-propensity-transformed outcome

    tau_hat_vi = Y_vi R_vi / P_vi - Y_vi (1 - R_vi) / (1 - P_vi)

(unbiased for the effect of recommending ``i`` to ``v``; Sato et al. 2020), users are
compared by the cosine of their outcome vectors, and

    score(u, i) = sum_{v in N_k(u)} sim(u, v) tau_hat_vi / sum_{v in N_k(u)} |sim(u, v)|

over the ``k`` most similar users. There is nothing to learn by gradient descent: the head is
fitted when built (``trainable = False``; the train task then only evaluates it).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from .base import Head
from .uplift import UPLIFT_MONITOR, UPLIFT_NEEDS


class CausalNeighborHead(Head):
    """CUBN over the training log (every row: treatment ``exposure``, outcome, propensity).

    Args:
        k: neighbours per user.
        clip: propensity cap for the transformed outcome.
        shrinkage: added to the cosine's denominator (Koren 2008), damping users with few
            outcomes.
    """

    sampling = "pointwise"
    data_needs = UPLIFT_NEEDS
    monitor = UPLIFT_MONITOR
    trainable = False

    def __init__(self, encoder, data=None, propensity=None, k: int = 50, clip: float = 0.01,
                 shrinkage: float = 1.0):
        super().__init__(encoder, data, propensity)
        if data is None:
            raise ValueError("CausalNeighborHead needs the training data")
        if int(k) <= 0:
            raise ValueError(f"head.k must be a positive number of neighbours, got {k}")
        if not 0 < float(clip) < 0.5:
            raise ValueError(f"head.clip must lie in (0, 0.5), got {clip}")
        df = data.interactions
        for col in ("exposure", "propensity"):
            if col not in df.columns:
                raise ValueError(f"CausalNeighborHead needs a {col!r} column in {data.source}")
        self.k, self.clip, self.shrinkage = int(k), float(clip), float(shrinkage)
        u, i = df["user"].to_numpy(), df["item"].to_numpy()
        y = (df[data.target_column].to_numpy() > 0).astype(np.float64)
        r = df["exposure"].to_numpy() > 0
        p = np.clip(df["propensity"].to_numpy(np.float64), self.clip, 1 - self.clip)
        tau = np.where(r, y / p, -y / (1 - p))
        shape = (self.n_users, self.n_items)
        effect = sp.csr_matrix((tau, (u, i)), shape=shape)
        outcome = sp.csr_matrix((y, (u, i)), shape=shape)
        norms = np.sqrt(np.asarray(outcome.multiply(outcome).sum(1)).ravel())
        sim = (outcome @ outcome.T).toarray()
        sim /= np.outer(norms, norms) + self.shrinkage
        np.fill_diagonal(sim, 0.0)
        kk = min(self.k, max(self.n_users - 1, 1))
        top = np.argpartition(-sim, kk - 1, axis=1)[:, :kk] if self.n_users > 1 else \
            np.zeros((self.n_users, 0), dtype=np.int64)
        rows = np.repeat(np.arange(self.n_users), top.shape[1])
        weights = sim[rows, top.ravel()]
        neigh = sp.csr_matrix((weights, (rows, top.ravel())), shape=(self.n_users, self.n_users))
        denom = np.asarray(abs(neigh).sum(1)).ravel()
        scores = (neigh @ effect).toarray() / np.where(denom > 0, denom, 1.0)[:, None]
        self.register_buffer("scores_", torch.as_tensor(scores, dtype=torch.float32))

    def forward(self, batch):
        return {}

    def loss(self, batch, outputs):
        raise RuntimeError("CausalNeighborHead is fitted when built and not trained by "
                           "gradient descent (trainable = False)")

    def score(self, users, items):
        return self.scores_[users.long(), items.long()]

    def full_scores(self, users):
        return self.scores_[users.long()]
