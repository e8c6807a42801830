"""TARNet / DragonNet: a shared pair representation with two outcome heads and a
propensity head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .base import Head
from .pair_mlp import PairMLP, chunked_full
from .pointwise_loss import check_loss_type, elementwise_loss, prediction


class TARNetHead(Head):
    """Effect of exposure (the batch's ``exposure``) on the outcome (``label``) through one
    representation ``phi(u, i)`` shared by both arms, with outcome heads ``h_0``, ``h_1``
    (Shalit, Johansson and Sontag 2017, "Estimating individual treatment effect:
    generalization bounds and algorithms", ICML: TARNet) and a propensity head
    ``g(phi) = P(T=1 | u, i)`` trained with weight ``propensity_weight`` (Shi, Blei and
    Veitch 2019, "Adapting Neural Networks for the Estimation of Treatment Effects",
    NeurIPS: DragonNet; ``propensity_weight=0`` is TARNet).

    ``tau(u, i) = h_1(phi) - h_0(phi)`` on the label scale; ``score``/``full_scores`` rank by
    it, :meth:`exposure_probability` gives the propensity output.
    """

    sampling = "pointwise"
    #: both arms, since exposure is the treatment (every logged row, no sampled negatives)
    data_needs = {"train_rows": "all", "negatives": 0}

    def __init__(self, encoder, data=None, propensity=None, hidden: Sequence[int] = (64, 32),
                 head_hidden: int = 16, propensity_weight: float = 1.0, loss_type: str = "bce",
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.loss_type = check_loss_type(loss_type, "TARNetHead")
        self.propensity_weight = float(propensity_weight)
        self.weight_decay = float(weight_decay)
        self.body = PairMLP(encoder.dim, hidden)
        d = self.body.out_dim
        self.outcome_heads = nn.ModuleList(
            [nn.Sequential(nn.Linear(d, head_hidden), nn.ReLU(), nn.Linear(head_hidden, 1))
             for _ in range(2)])
        self.propensity_head = nn.Linear(d, 1)

    def _phi(self, users, items):
        return self.body(self.encoder.encode_users(users), self.encoder.encode_items(items))

    def forward(self, batch):
        if "exposure" not in batch:
            raise KeyError("uplift heads need an 'exposure' (treatment) column in the batch")
        users, items, labels = self.pointwise_view(batch)
        phi = self._phi(users, items)
        t = (batch["exposure"] > 0).float()
        h0 = self.outcome_heads[0](phi).squeeze(-1)
        h1 = self.outcome_heads[1](phi).squeeze(-1)
        return {"factual": torch.where(t > 0, h1, h0), "label": labels, "t": t,
                "g": self.propensity_head(phi).squeeze(-1)}

    def loss(self, batch, o):
        loss = elementwise_loss(o["factual"], o["label"], self.loss_type).mean()
        if self.propensity_weight:
            loss = loss + self.propensity_weight * F.binary_cross_entropy_with_logits(o["g"], o["t"])
        if self.weight_decay:
            loss = loss + self.weight_decay * sum(
                p.pow(2).sum() for p in self.outcome_heads.parameters())
        return loss

    def outcome(self, users, items, treatment: int) -> torch.Tensor:
        """Predicted outcome under ``do(T = treatment)`` on the label scale."""
        h = self.outcome_heads[int(treatment)](self._phi(users, items)).squeeze(-1)
        return prediction(h, self.loss_type)

    def effect(self, users, items) -> torch.Tensor:
        phi = self._phi(users, items)
        h = [prediction(m(phi).squeeze(-1), self.loss_type) for m in self.outcome_heads]
        return h[1] - h[0]

    def exposure_probability(self, users, items) -> torch.Tensor:
        """The propensity output: ``P(exposed | user, item)`` of each pair, shape ``[B]``."""
        return torch.sigmoid(self.propensity_head(self._phi(users, items)).squeeze(-1))

    def score(self, users, items):
        return self.effect(users, items)

    def full_scores(self, users):
        return chunked_full(self.effect, users, self.n_items)
