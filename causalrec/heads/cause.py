"""CausE: causal embeddings from a large logged sample and a small randomized one."""

from __future__ import annotations

import torch
from torch import nn

from ..data.pairs import PairIndex
from .base import Head
from .pointwise_loss import check_loss_type, elementwise_loss
from .randomized import randomized_mask


class CausEHead(Head):
    """Two item representations: *control* (the encoder's, fitted on rows the production
    policy logged) and *treatment* (own embeddings, fitted on the randomized rows), tied by
    a discrepancy penalty ``dis_pen * ||t_i - c_i||^2`` (Bonner and Vasile 2018, "Causal
    Embeddings for Recommendation", RecSys).

    The randomized rows are those of the training data with ``data.interactions[column] ==
    value``; they are looked up by (user, item) in each batch, sampled negatives count as
    control rows. Recommendations use the treatment representation (``predict_with
    ="treatment"``, the paper's choice: it targets outcomes under randomized exposure) or
    the control one (RecBole-Debias's choice).
    """

    sampling = None

    def __init__(self, encoder, data=None, propensity=None, column: str = "policy",
                 value="random", dis_pen: float = 0.1, control_weight: float = 1.0,
                 treatment_weight: float = 1.0, loss_type: str = "bce",
                 predict_with: str = "treatment", weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        if data is None:
            raise ValueError("CausEHead needs the training data to find its randomized rows")
        if predict_with not in ("treatment", "control"):
            raise ValueError(f"CausEHead.predict_with must be 'treatment' or 'control', got "
                             f"{predict_with!r}")
        df = data.interactions
        mask = randomized_mask(df, column, value)
        if not mask.any():
            raise ValueError(f"CausEHead: no randomized rows in {data.source} (looked for "
                             f"{column} == {value!r}; columns {list(df.columns)})")
        self.treatment_pairs = PairIndex(df["user"].to_numpy()[mask], df["item"].to_numpy()[mask],
                                       data.n_items)
        self.loss_type = check_loss_type(loss_type, "CausEHead")
        self.dis_pen, self.weight_decay = float(dis_pen), float(weight_decay)
        self.control_weight, self.treatment_weight = float(control_weight), float(treatment_weight)
        self.predict_with = predict_with
        self.treatment_items = nn.Embedding(self.n_items, encoder.dim)
        nn.init.xavier_normal_(self.treatment_items.weight)

    def forward(self, batch):
        users, items, labels = self.pointwise_view(batch)
        treated = self.treatment_pairs.contains(users, items)
        if "neg_item" in batch:
            treated = treated & (labels > 0)
        u = self.encoder.encode_users(users)
        c = self.encoder.encode_items(items)
        t = self.treatment_items(items)
        score = torch.where(treated, (u * t).sum(-1), (u * c).sum(-1))
        uniq = torch.unique(items)
        gap = (self.treatment_items(uniq) - self.encoder.encode_items(uniq)).pow(2).sum(-1).mean()
        return {"score": score, "label": labels, "treated": treated, "gap": gap,
                "reg": self.embedding_l2(u, c, t)}

    def loss(self, batch, outputs):
        per_row = elementwise_loss(outputs["score"], outputs["label"], self.loss_type)
        tr = outputs["treated"].float()
        n_t, n_c = tr.sum().clamp(min=1), (1 - tr).sum().clamp(min=1)
        loss = (self.control_weight * (per_row * (1 - tr)).sum() / n_c
                + self.treatment_weight * (per_row * tr).sum() / n_t)
        return loss + self.dis_pen * outputs["gap"] + self.weight_decay * outputs["reg"]

    def _items(self, items=None):
        if self.predict_with == "treatment":
            return self.treatment_items.weight if items is None else self.treatment_items(items)
        return self.encoder.all_items() if items is None else self.encoder.encode_items(items)

    def score(self, users, items):
        return (self.encoder.encode_users(users) * self._items(items)).sum(-1)

    def full_scores(self, users):
        return self.encoder.encode_users(users) @ self._items().T
