"""MACR: model-agnostic counterfactual reasoning against popularity bias."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .base import Head
from .pointwise_loss import elementwise_loss


def _mlp(dim: int, hidden: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    sizes = [dim, *hidden]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers[-1:] = []  # no activation on the output
    return nn.Sequential(*layers)


class MACRHead(Head):
    """Multi-task training of a user-item matching score ``y_k``, an item module ``y_i`` and
    a user module ``y_u``, fused as ``y = y_k * sigmoid(y_i) * sigmoid(y_u)`` (Wei, Feng,
    Chen, Wu, Yi and He 2021, "Model-Agnostic Counterfactual Reasoning for Eliminating
    Popularity Bias in Recommender System", KDD).

    Training: BCE on the fused score plus ``item_weight`` * BCE(y_i) and ``user_weight`` *
    BCE(y_u). Inference is counterfactual: the natural direct effect of the item through
    popularity is removed, ``(y_k - c) * sigmoid(y_i) * sigmoid(y_u)``. The item and user
    modules are MLPs over the encoder's representations (``hidden`` sizes, last is 1).
    """

    sampling = None

    def __init__(self, encoder, data=None, propensity=None, item_weight: float = 0.05,
                 user_weight: float = 0.01, c: float = 5.0, hidden: Sequence[int] = (32, 16, 1),
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        hidden = list(hidden)
        if not hidden or hidden[-1] != 1:
            raise ValueError(f"MACRHead.hidden must end with 1, got {hidden}")
        self.item_weight, self.user_weight = float(item_weight), float(user_weight)
        self.c, self.weight_decay = float(c), float(weight_decay)
        self.item_module = _mlp(encoder.dim, hidden)
        self.user_module = _mlp(encoder.dim, hidden)

    def forward(self, batch):
        users, items, labels = self.pointwise_view(batch)
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        yk = (u * v).sum(-1)
        yi = self.item_module(v).squeeze(-1)
        yu = self.user_module(u).squeeze(-1)
        return {"yk": yk, "yi": yi, "yu": yu, "label": labels,
                "reg": self.embedding_l2(u, v)}

    def loss(self, batch, o):
        y = o["label"]
        fused = o["yk"] * torch.sigmoid(o["yi"]) * torch.sigmoid(o["yu"])
        return (elementwise_loss(fused, y, "bce").mean()
                + self.item_weight * elementwise_loss(o["yi"], y, "bce").mean()
                + self.user_weight * elementwise_loss(o["yu"], y, "bce").mean()
                + self.weight_decay * o["reg"])

    def score(self, users, items):
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        gate = torch.sigmoid(self.item_module(v).squeeze(-1)) * \
            torch.sigmoid(self.user_module(u).squeeze(-1))
        return ((u * v).sum(-1) - self.c) * gate

    def full_scores(self, users):
        u = self.encoder.encode_users(users)
        v = self.encoder.all_items()
        gi = torch.sigmoid(self.item_module(v).squeeze(-1))
        gu = torch.sigmoid(self.user_module(u).squeeze(-1))
        return (u @ v.T - self.c) * gi[None, :] * gu[:, None]
