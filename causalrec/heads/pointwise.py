"""Naive pointwise head: binary cross-entropy on labels (or MSE on ratings)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Head


class PointwiseHead(Head):
    """Naive (biased) pointwise learning: every observed label counts equally.

    The standard baseline of the debiasing literature, e.g. the "naive" MF of Schnabel et al.
    2016, "Recommendations as Treatments: Debiasing Learning and Evaluation" (ICML).

    Args:
        loss_type: ``"bce"`` on 0/1 labels or ``"mse"`` on ratings/labels.
        weight_decay: L2 penalty on the embeddings used in the batch.
    """

    def __init__(self, encoder, data=None, propensity=None, loss_type: str = "bce",
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        if loss_type not in ("bce", "mse"):
            raise ValueError(f"head.loss_type must be 'bce' or 'mse', got {loss_type!r}")
        self.loss_type = loss_type
        self.weight_decay = float(weight_decay)

    def forward(self, batch):
        u = self.encoder.encode_users(batch["user"])
        v = self.encoder.encode_items(batch["item"])
        return {"score": (u * v).sum(-1), "reg": (u.pow(2).sum() + v.pow(2).sum()) / len(u)}

    def loss(self, batch, outputs):
        target = batch["label"] if "label" in batch else batch["rating"]
        s = outputs["score"]
        if self.loss_type == "bce":
            loss = F.binary_cross_entropy_with_logits(s, target.float())
        else:
            loss = F.mse_loss(s, target.float())
        return loss + self.weight_decay * outputs["reg"]
