"""Naive pointwise head: binary cross-entropy on labels (or MSE on ratings)."""

from __future__ import annotations

from .base import Head
from .pointwise_loss import check_loss_type, elementwise_loss


class PointwiseHead(Head):
    """Naive (biased) pointwise learning: every observed label counts equally.

    The standard baseline of the debiasing literature, e.g. the "naive" MF of Schnabel et al.
    2016, "Recommendations as Treatments: Debiasing Learning and Evaluation" (ICML).

    Args:
        loss_type: ``"bce"`` on 0/1 labels or ``"mse"`` on ratings/labels.
        weight_decay: L2 penalty on the embeddings used in the batch.
    """

    sampling = None

    def __init__(self, encoder, data=None, propensity=None, loss_type: str = "bce",
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.loss_type = check_loss_type(loss_type, "head")
        self.weight_decay = float(weight_decay)

    def forward(self, batch):
        users, items, labels = self.pointwise_view(batch)
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        return {"score": (u * v).sum(-1), "label": labels,
                "reg": self.embedding_l2(u, v)}

    def loss(self, batch, outputs):
        loss = elementwise_loss(outputs["score"], outputs["label"], self.loss_type).mean()
        return loss + self.weight_decay * outputs["reg"]
