"""Inverse-propensity-scored (IPS) pointwise learning."""

from __future__ import annotations

from .base import Head
from .pointwise_loss import check_loss_type, elementwise_loss


class IPSHead(Head):
    """Each observed (user, item) loss weighted by ``1 / max(p_ui, clip)`` (Schnabel et al.
    2016, "Recommendations as Treatments: Debiasing Learning and Evaluation", ICML, Eq. 9;
    clipping as in their Section 3.3 / Swaminathan and Joachims 2015).

    The propensity ``p_ui`` comes from the head's fitted propensity model (``propensity:``
    in the YAML) or, without one, from the batch's logged ``propensity`` column.

    Args:
        loss_type: ``"bce"`` (labels 0/1) or ``"mse"`` (ratings).
        clip: lower bound on propensities (upper bound ``1/clip`` on the weights).
        weight_negatives: for implicit data with sampled negatives, whether the sampled
            zeros are weighted too (RecBole-Debias MF-IPS weights every row).
        weight_decay: L2 on the batch's embeddings.
    """

    sampling = None
    self_normalized = False

    def __init__(self, encoder, data=None, propensity=None, loss_type: str = "bce",
                 clip: float = 0.01, weight_negatives: bool = True, weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.loss_type = check_loss_type(loss_type, type(self).__name__)
        if not 0 < clip <= 1:
            raise ValueError(f"{type(self).__name__}.clip must lie in (0, 1], got {clip}")
        self.clip = float(clip)
        self.weight_negatives = bool(weight_negatives)
        self.weight_decay = float(weight_decay)

    def forward(self, batch):
        users, items, labels = self.pointwise_view(batch)
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        p = self.propensities(users, items, labels, batch).clamp(min=self.clip)
        if "neg_item" in batch and not self.weight_negatives:
            p = p.masked_fill(labels == 0, 1.0)
        return {"score": (u * v).sum(-1), "label": labels, "weight": 1.0 / p,
                "reg": self.embedding_l2(u, v)}

    def loss(self, batch, outputs):
        w = outputs["weight"]
        per_row = elementwise_loss(outputs["score"], outputs["label"], self.loss_type)
        denom = w.sum() if self.self_normalized else len(w)
        return (w * per_row).sum() / denom + self.weight_decay * outputs["reg"]
