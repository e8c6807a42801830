"""PDA: popularity-bias deconfounding and adjusting."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Head


class PDAHead(Head):
    """Training deconfounds popularity: ``s(u, i) = ELU'(f(u, i)) * m_i^gamma`` with
    ``ELU'(x) = elu(x) + 1`` under a BPR loss, so the matching score ``f`` is learned free
    of popularity's effect on exposure (Zhang, Feng, He, Wei, Song, Ling and Zhang 2021,
    "Causal Intervention for Leveraging Popularity Bias in Recommendation", SIGIR).

    ``m_i^gamma`` is the head's propensity model, a :class:`PopularityPropensity` with
    ``eta = gamma`` (global popularity: the paper's time-staged popularity needs time
    stages the usual benchmarks do not have; RecBole-Debias makes the same choice).
    Inference ``"pd"`` ranks by ``ELU'(f)`` (deconfounded); ``"pda"`` multiplies back the
    popularity to be expected at test time, ``ELU'(f) * m_i^gamma`` (adjusted inference).
    """

    sampling = "pairwise"

    def __init__(self, encoder, data=None, propensity=None, inference: str = "pd",
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        if propensity is None:
            raise ValueError("PDAHead needs a popularity propensity model (head.propensity: "
                             "{_target_: causalrec.heads.PopularityPropensity, eta: 0.1})")
        if getattr(propensity, "by", "item") != "item":
            raise ValueError("PDAHead needs item popularity: PopularityPropensity(by='item')")
        if inference not in ("pd", "pda"):
            raise ValueError(f"PDAHead.inference must be 'pd' or 'pda', got {inference!r}")
        self.inference, self.weight_decay = inference, float(weight_decay)
        all_items = torch.arange(self.n_items)
        self.register_buffer("item_weight", propensity(all_items * 0, all_items).float(),
                             persistent=False)

    def forward(self, batch):
        if "neg_item" not in batch:
            raise KeyError("PDAHead needs pairwise batches: set dataset.sampling=pairwise")
        u = self.encoder.encode_users(batch["user"])
        i = self.encoder.encode_items(batch["item"])
        j = self.encoder.encode_items(batch["neg_item"])
        pos = (F.elu((u * i).sum(-1)) + 1) * self.item_weight[batch["item"]]
        neg = (F.elu((u * j).sum(-1)) + 1) * self.item_weight[batch["neg_item"]]
        return {"pos": pos, "neg": neg,
                "reg": self.embedding_l2(u, i, j, per=2)}

    def loss(self, batch, outputs):
        return (-F.logsigmoid(outputs["pos"] - outputs["neg"]).mean()
                + self.weight_decay * outputs["reg"])

    def score(self, users, items):
        s = F.elu(super().score(users, items)) + 1
        return s * self.item_weight[items] if self.inference == "pda" else s

    def full_scores(self, users):
        s = F.elu(super().full_scores(users)) + 1
        return s * self.item_weight[None, :] if self.inference == "pda" else s
