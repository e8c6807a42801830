"""Bayesian personalised ranking (BPR)."""

from __future__ import annotations

import torch.nn.functional as F

from .base import Head


class BPRHead(Head):
    """Pairwise ranking loss ``-log sigmoid(s(u, i) - s(u, j))`` over (user, positive,
    sampled negative) triples (Rendle et al. 2009, "BPR: Bayesian Personalized Ranking from
    Implicit Feedback", UAI).

    Args:
        weight_decay: L2 penalty on the embeddings of the batch, divided by the batch size
            (RecBole's ``EmbLoss``); 0 reproduces RecBole's BPR.
    """

    sampling = "pairwise"

    def __init__(self, encoder, data=None, propensity=None, weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.weight_decay = float(weight_decay)

    def forward(self, batch):
        if "neg_item" not in batch:
            raise KeyError("BPRHead needs pairwise batches (user, item, neg_item): set "
                           "dataset.sampling=pairwise")
        u = self.encoder.encode_users(batch["user"])
        i = self.encoder.encode_items(batch["item"])
        j = self.encoder.encode_items(batch["neg_item"])
        out = {"pos": (u * i).sum(-1), "neg": (u * j).sum(-1)}
        if self.weight_decay:
            out["reg"] = self.embedding_l2(u, i, j, per=2)
        return out

    def loss(self, batch, outputs):
        loss = -F.logsigmoid(outputs["pos"] - outputs["neg"]).mean()
        if self.weight_decay:
            loss = loss + self.weight_decay * outputs["reg"]
        return loss
