"""Rel-MF: relevance matrix factorisation, unbiased for missing-not-at-random clicks."""

from __future__ import annotations

import torch.nn.functional as F

from .base import Head


class RelMFHead(Head):
    """Unbiased pointwise loss for implicit feedback (Saito, Yaginuma, Nishino, Sakata and
    Nakata 2020, "Unbiased Recommender Learning from Missing-Not-At-Random Implicit
    Feedback", WSDM, Eq. 9): a click ``Y`` = exposure x relevance, and

    ``L = -[ Y/theta * log sigmoid(s) + (1 - Y/theta) * log(1 - sigmoid(s)) ]``

    with ``theta_ui`` the exposure propensity (the head's propensity model, usually item
    popularity to the power eta) clipped below at ``clip``. Unclicked pairs are the
    sampled negatives of the pointwise loader.
    """

    sampling = None

    def __init__(self, encoder, data=None, propensity=None, clip: float = 0.1,
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.clip, self.weight_decay = float(clip), float(weight_decay)

    def forward(self, batch):
        users, items, labels = self.pointwise_view(batch)
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        theta = self.propensities(users, items, labels, batch).clamp(min=self.clip)
        return {"score": (u * v).sum(-1), "label": labels, "theta": theta,
                "reg": self.embedding_l2(u, v)}

    def loss(self, batch, o):
        s, y = o["score"], o["label"]
        w = y / o["theta"]
        loss = -(w * F.logsigmoid(s) + (1 - w) * F.logsigmoid(-s)).mean()
        return loss + self.weight_decay * o["reg"]
