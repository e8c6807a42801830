"""Uplift heads: rank items by the causal effect of recommending them, not by the chance of a
purchase (Sato, Singh, Takemori, Sonoda, Zhang and Ohkuma).

Every logged row is a (user, item) pair with a treatment ``R`` (the batch's ``exposure``: was
the item recommended?) and an outcome ``Y`` (``label``: purchase / click). A pair falls in one
of four classes (Sato et al. 2019, section 4):

======  =====  =====  =============================================================
class   R      Y      reading
======  =====  =====  =============================================================
TP      1      1      treated positive: bought after the recommendation (maybe caused)
TN      1      0      treated negative: recommended in vain
CP      0      1      control positive: bought without it (would have anyway)
CN      0      0      control negative: not bought, not recommended (maybe persuadable)
======  =====  =====  =============================================================

The uplift-based labelling treats TP and CN as positive and TN and CP as negative: an item
with positive uplift can only produce TP or CN, one with negative uplift only TN or CP.
The heads need every logged row, treated and not (``data_needs``), like the T-learner.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .base import Head

#: uplift heads see every logged row: exposure is their treatment, no sampled negatives
UPLIFT_NEEDS = {"train_rows": "all", "negatives": 0}


def uplift_classes(r: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Boolean masks of the four classes TP, TN, CP, CN from treatment and outcome."""
    r, y = r > 0, y > 0
    return {"TP": r & y, "TN": r & ~y, "CP": ~r & y, "CN": ~r & ~y}


def _treatment(batch) -> torch.Tensor:
    if "exposure" not in batch:
        raise KeyError("uplift heads need an 'exposure' (treatment: recommended) column in the "
                       "batch; use data with exposure and dataset.train_rows=all")
    return batch["exposure"]


class ULRMFHead(Head):
    """ULRMF (Sato et al. 2019, "Uplift-based evaluation and optimization of recommenders",
    RecSys): pointwise logistic matrix factorisation on the uplift-based labels (TP and CN
    positive, TN and CP negative). CN rows are plentiful and only possibly persuadable, so
    they are weighted by ``cn_weight`` (the paper's sampling ratio ``alpha``).

    Args:
        cn_weight: weight of a CN row relative to the others (``alpha``).
        weight_decay: L2 on the batch's embeddings.
    """

    sampling = "pointwise"
    data_needs = UPLIFT_NEEDS

    def __init__(self, encoder, data=None, propensity=None, cn_weight: float = 0.5,
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        if not 0 < float(cn_weight) <= 1:
            raise ValueError(f"head.cn_weight must lie in (0, 1], got {cn_weight}")
        self.cn_weight, self.weight_decay = float(cn_weight), float(weight_decay)

    def forward(self, batch):
        users, items, y = self.pointwise_view(batch)
        c = uplift_classes(_treatment(batch), y)
        u, v = self.encoder.encode_users(users), self.encoder.encode_items(items)
        target = (c["TP"] | c["CN"]).float()
        weight = torch.where(c["CN"], torch.full_like(target, self.cn_weight),
                             torch.ones_like(target))
        return {"score": (u * v).sum(-1), "target": target, "weight": weight,
                "reg": self.embedding_l2(u, v)}

    def loss(self, batch, o):
        bce = F.binary_cross_entropy_with_logits(o["score"], o["target"], reduction="none")
        return (o["weight"] * bce).sum() / o["weight"].sum() + self.weight_decay * o["reg"]


class ULBPRHead(Head):
    """ULBPR (Sato et al. 2019): Bayesian personalised ranking on uplift-based labels. For
    each uplift-positive row (TP or CN) of the batch an uplift-negative item of the same user
    (TN or CP in the training log) is drawn, and ``log sigmoid(s_ui - s_uj)`` is maximised;
    CN positives are weighted by ``cn_weight`` (the paper samples them with probability
    ``alpha``). Users with no uplift-negative item get a uniformly random item as ``j``.

    Args:
        cn_weight: weight of a CN positive (``alpha``).
        weight_decay: L2 on the batch's embeddings.
        seed: the generator of the negative draws.
    """

    sampling = "pointwise"
    data_needs = UPLIFT_NEEDS

    def __init__(self, encoder, data=None, propensity=None, cn_weight: float = 0.5,
                 weight_decay: float = 0.0, seed: int = 0):
        super().__init__(encoder, data, propensity)
        if data is None:
            raise ValueError("ULBPRHead needs the training data (its uplift-negative items)")
        if not 0 < float(cn_weight) <= 1:
            raise ValueError(f"head.cn_weight must lie in (0, 1], got {cn_weight}")
        self.cn_weight, self.weight_decay = float(cn_weight), float(weight_decay)
        df = data.interactions
        if "exposure" not in df.columns:
            raise ValueError(f"ULBPRHead needs an 'exposure' column in {data.source}")
        y = df[data.target_column].to_numpy() > 0
        r = df["exposure"].to_numpy() > 0
        neg = df[(r & ~y) | (~r & y)]  # TN or CP
        order = np.argsort(neg["user"].to_numpy(), kind="stable")
        users, items = neg["user"].to_numpy()[order], neg["item"].to_numpy()[order]
        indptr = np.searchsorted(users, np.arange(self.n_users + 1))
        self.register_buffer("neg_indptr", torch.as_tensor(indptr, dtype=torch.long),
                             persistent=False)
        self.register_buffer("neg_items", torch.as_tensor(items, dtype=torch.long),
                             persistent=False)
        self._gen = torch.Generator().manual_seed(int(seed))

    def _draw_negatives(self, users: torch.Tensor) -> torch.Tensor:
        start, stop = self.neg_indptr[users], self.neg_indptr[users + 1]
        n = (stop - start).cpu()
        u = torch.rand(len(users), generator=self._gen)
        pick = start.cpu() + (u * n.clamp(min=1)).long().clamp(max=(n - 1).clamp(min=0))
        has = n > 0
        out = torch.randint(0, self.n_items, (len(users),), generator=self._gen)
        if len(self.neg_items):
            out[has] = self.neg_items.cpu()[pick[has]]
        return out.to(users.device)

    def forward(self, batch):
        users, items, y = self.pointwise_view(batch)
        c = uplift_classes(_treatment(batch), y)
        pos = c["TP"] | c["CN"]
        users, items = users[pos], items[pos]
        weight = torch.where(c["CN"][pos], torch.full((int(pos.sum()),), self.cn_weight,
                                                      device=users.device),
                             torch.ones(int(pos.sum()), device=users.device))
        neg = self._draw_negatives(users)
        u = self.encoder.encode_users(users)
        i, j = self.encoder.encode_items(items), self.encoder.encode_items(neg)
        return {"diff": (u * i).sum(-1) - (u * j).sum(-1), "weight": weight,
                "reg": self.embedding_l2(u, i, j, per=2) if len(u) else u.sum()}

    def loss(self, batch, o):
        if len(o["diff"]) == 0:
            return o["reg"] * 0.0
        nll = -F.logsigmoid(o["diff"])
        return (o["weight"] * nll).sum() / o["weight"].sum() + self.weight_decay * o["reg"]


class DLCEHead(Head):
    """DLCE (Sato et al. 2020, "Unbiased learning for the causal effect of recommendation",
    RecSys), pointwise form: the inverse-propensity-transformed outcome
    ``tau_hat = Y R / P - Y (1 - R) / (1 - P)`` is an unbiased estimate of the effect of
    recommending (``P`` = the logging policy's propensity of ``R = 1``); its positive part
    pushes the score up and its negative part down through the logistic loss
    ``Y R / max(P, clip) * log(1 + e^-s) + Y (1 - R) / max(1 - P, clip) * log(1 + e^s)``.
    Rows with ``Y = 0`` carry no effect signal; the L2 term keeps their scores near zero.

    Args:
        clip: the propensity cap ``chi`` (the paper's capping, against huge weights).
        weight_decay: L2 on the batch's embeddings.
    """

    sampling = "pointwise"
    data_needs = UPLIFT_NEEDS

    def __init__(self, encoder, data=None, propensity=None, clip: float = 0.01,
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        if not 0 < float(clip) < 0.5:
            raise ValueError(f"head.clip must lie in (0, 0.5), got {clip}")
        self.clip, self.weight_decay = float(clip), float(weight_decay)

    def forward(self, batch):
        users, items, y = self.pointwise_view(batch)
        r = (_treatment(batch) > 0).float()
        p = self.propensities(users, items, y, batch)
        u, v = self.encoder.encode_users(users), self.encoder.encode_items(items)
        return {"score": (u * v).sum(-1), "w_pos": y * r / p.clamp(min=self.clip),
                "w_neg": y * (1 - r) / (1 - p).clamp(min=self.clip),
                "reg": self.embedding_l2(u, v)}

    def loss(self, batch, o):
        s = o["score"]
        per_row = o["w_pos"] * F.softplus(-s) + o["w_neg"] * F.softplus(s)
        return per_row.mean() + self.weight_decay * o["reg"]
