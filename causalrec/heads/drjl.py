"""Doubly robust joint learning (DR-JL)."""

from __future__ import annotations

import torch
from torch import nn

from .base import Head
from .pointwise_loss import check_loss_type, elementwise_loss, prediction


class DRJLHead(Head):
    """Doubly robust loss with a jointly learned imputation model (Wang, Zhang, Sun and Qi
    2019, "Doubly Robust Joint Learning for Recommendation on Data Missing Not at Random",
    ICML).

    The prediction model's loss over all user-item pairs ``D`` is estimated as
    ``mean_D e_hat + |O|/|D| * mean_O (e - e_hat) / p``, where ``e`` is the prediction error
    on observed pairs ``O``, ``e_hat = l(score, imputed label)`` the imputed error (the
    imputation model predicts the label; its output is a constant for the prediction
    model), and the mean over ``D`` uses ``unobserved_ratio`` uniformly drawn pairs per
    batch row. The imputation model minimises ``mean_O (e - e_hat)^2 / p`` (the paper's
    Eq. 8) with the prediction model held fixed; both steps are taken at once by stopping
    gradients across them, which is the alternating scheme of the paper with one step each.

    Args:
        loss_type: ``"bce"`` or ``"mse"``; clip: lower bound on propensities.
        imputation_dim: embedding size of the imputation MF (its own tables).
        imputation_weight: weight of the imputation loss in the summed objective.
        unobserved_ratio: uniformly drawn pairs per batch row for the ``mean_D`` term.
        observed_fraction: ``|O| / |D|``; by default ``|O| / sum_O 1/p`` over the training
            rows (Horvitz-Thompson), which matches propensities given on any scale.
        imputation_l2: L2 penalty on the imputation model's embeddings of the batch.
    """

    sampling = None

    def __init__(self, encoder, data=None, propensity=None, loss_type: str = "bce",
                 clip: float = 0.01, imputation_dim: int = 16, imputation_weight: float = 1.0,
                 unobserved_ratio: int = 1, observed_fraction: float | None = None,
                 weight_decay: float = 0.0, imputation_l2: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.loss_type = check_loss_type(loss_type, "DRJLHead")
        self.clip = float(clip)
        self.imputation_weight = float(imputation_weight)
        self.unobserved_ratio = max(int(unobserved_ratio), 1)
        self.weight_decay = float(weight_decay)
        self.imputation_l2 = float(imputation_l2)
        if observed_fraction is None:
            if data is None:
                raise ValueError("DRJLHead needs data or observed_fraction")
            observed_fraction = self._horvitz_thompson_fraction(data, propensity)
        self.observed_fraction = float(observed_fraction)
        self.imp_user = nn.Embedding(self.n_users, imputation_dim)
        self.imp_item = nn.Embedding(self.n_items, imputation_dim)
        self.imp_bias = nn.Parameter(torch.zeros(()))
        for emb in (self.imp_user, self.imp_item):
            nn.init.normal_(emb.weight, std=0.1)

    def _horvitz_thompson_fraction(self, data, propensity) -> float:
        """``|O| / |D|`` with ``|D|`` estimated as ``sum_O 1 / p`` (Horvitz-Thompson), so the
        correction term has the scale of the IPS loss whatever the propensities' scale;
        ``|O| / (n_users * n_items)`` when no propensity is known yet."""
        df = data.interactions
        users = torch.as_tensor(df["user"].to_numpy())
        items = torch.as_tensor(df["item"].to_numpy())
        col = data.target_column
        labels = torch.as_tensor(df[col].to_numpy(), dtype=torch.float32) if col else None
        if propensity is not None:
            p = propensity(users, items, labels).double()
        elif "propensity" in df.columns:
            p = torch.as_tensor(df["propensity"].to_numpy(), dtype=torch.float64)
        else:
            return len(df) / (float(data.n_users) * float(data.n_items))
        return float(len(df) / (1.0 / p.clamp(min=self.clip)).sum())

    def imputed(self, users, items):
        """The imputation model's label prediction (a logit for BCE)."""
        return (self.imp_user(users) * self.imp_item(items)).sum(-1) + self.imp_bias

    def forward(self, batch):
        users, items, labels = self.pointwise_view(batch)
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        n = len(users) * self.unobserved_ratio
        ru = torch.randint(0, self.n_users, (n,), device=users.device)
        ri = torch.randint(0, self.n_items, (n,), device=users.device)
        return {"score": (u * v).sum(-1), "label": labels,
                "p": self.propensities(users, items, labels, batch).clamp(min=self.clip),
                "imp": self.imputed(users, items),
                "score_d": self.score(ru, ri), "imp_d": self.imputed(ru, ri),
                "reg": self.embedding_l2(u, v),
                "imp_reg": self.embedding_l2(self.imp_user(users), self.imp_item(items))}

    def loss(self, batch, outputs):
        lt = self.loss_type
        s, y, p = outputs["score"], outputs["label"], outputs["p"]
        pseudo = prediction(outputs["imp"], lt)
        e = elementwise_loss(s, y, lt)
        e_hat = elementwise_loss(s, pseudo.detach(), lt)
        e_hat_d = elementwise_loss(outputs["score_d"], prediction(outputs["imp_d"], lt).detach(), lt)
        pred_loss = e_hat_d.mean() + self.observed_fraction * ((e - e_hat) / p).mean()
        # imputation step: the prediction model is held fixed
        e_fixed = e.detach()
        e_hat_imp = elementwise_loss(s.detach(), pseudo, lt)
        imp_loss = ((e_fixed - e_hat_imp).pow(2) / p).mean() * self.observed_fraction
        return (pred_loss + self.imputation_weight * imp_loss + self.weight_decay * outputs["reg"]
                + self.imputation_l2 * outputs["imp_reg"])
