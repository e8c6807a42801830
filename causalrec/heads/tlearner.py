"""T-learner: one outcome model per treatment arm."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from .base import Head
from .pair_mlp import PairMLP, chunked_full
from .pointwise_loss import check_loss_type, elementwise_loss, prediction


class TLearnerHead(Head):
    """Effect of exposure (treatment ``T`` = the batch's ``exposure``) on the outcome
    (``label``) by two separately fitted models, ``mu_1`` on exposed rows and ``mu_0`` on
    unexposed rows; ``tau(u, i) = mu_1(u, i) - mu_0(u, i)`` (Kuenzel, Sekhon, Bickel and Yu
    2019, "Metalearners for estimating heterogeneous treatment effects using machine
    learning", PNAS). Arm 1 uses the given encoder, arm 0 a copy of it, so the arms share
    nothing. ``score`` and ``full_scores`` rank by the estimated uplift ``tau``.
    """

    sampling = "pointwise"
    #: both arms, since exposure is the treatment (every logged row, no sampled negatives)
    data_needs = {"train_rows": "all", "negatives": 0}

    def __init__(self, encoder, data=None, propensity=None, hidden: Sequence[int] = (64, 32),
                 loss_type: str = "bce", weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.loss_type = check_loss_type(loss_type, "TLearnerHead")
        self.weight_decay = float(weight_decay)
        self.encoder0 = copy.deepcopy(encoder)
        for p in self.encoder0.parameters():  # a fresh initialisation for the second arm
            if p.dim() > 1 and p.requires_grad:
                nn.init.xavier_normal_(p)
        self.body = nn.ModuleList([PairMLP(encoder.dim, hidden), PairMLP(encoder.dim, hidden)])
        self.out = nn.ModuleList([nn.Linear(self.body[0].out_dim, 1) for _ in range(2)])

    def _arm(self, t: int, users, items):
        enc = self.encoder if t == 1 else self.encoder0
        h = self.body[t](enc.encode_users(users), enc.encode_items(items))
        return self.out[t](h).squeeze(-1)

    def forward(self, batch):
        if "exposure" not in batch:
            raise KeyError("uplift heads need an 'exposure' (treatment) column in the batch")
        users, items, labels = self.pointwise_view(batch)
        t = batch["exposure"] > 0
        return {"mu0": self._arm(0, users[~t], items[~t]), "mu1": self._arm(1, users[t], items[t]),
                "y0": labels[~t], "y1": labels[t]}

    def loss(self, batch, o):
        parts = [elementwise_loss(o[f"mu{a}"], o[f"y{a}"], self.loss_type).sum() for a in (0, 1)]
        loss = (parts[0] + parts[1]) / max(len(o["y0"]) + len(o["y1"]), 1)
        if self.weight_decay:
            loss = loss + self.weight_decay * sum(p.pow(2).sum() for p in self.out.parameters())
        return loss

    def outcome(self, users, items, treatment: int) -> torch.Tensor:
        """Predicted outcome under ``do(T = treatment)`` on the label scale."""
        return prediction(self._arm(int(treatment), users, items), self.loss_type)

    def effect(self, users, items) -> torch.Tensor:
        """Estimated individual effect ``tau(u, i)``."""
        return self.outcome(users, items, 1) - self.outcome(users, items, 0)

    def score(self, users, items):
        return self.effect(users, items)

    def full_scores(self, users):
        return chunked_full(self.effect, users, self.n_items)
