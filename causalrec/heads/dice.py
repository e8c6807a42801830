"""DICE: disentangled interest and conformity embeddings."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .base import Head


class DICEHead(Head):
    """Interest (the encoder's representations) and conformity (own embeddings) parts, with
    ``s = <u_int, i_int> + <u_con, i_con>`` (Zheng, Gao, Li, He, Li and Jin 2021,
    "Disentangling User Interest and Conformity for Recommendation with Causal Embedding",
    WWW).

    Triples (u, i, j) are split by popularity with a margin (the paper's PNSM): in O1 the
    negative is more popular than the positive (``pop_j > pop_i + margin``): the click is
    explained by interest, and conformity ranks j above i; in O2 (``pop_j < pop_i -
    margin``) conformity ranks i above j. Losses: BPR on the total score for all triples,
    ``int_weight`` * interest BPR on O1, ``pop_weight`` * conformity BPR on O1 (reversed)
    and O2, and ``dis_pen`` * discrepancy (minus the mean squared distance between the
    interest and conformity embeddings of the batch's users and items). Ranking uses the
    total score.
    """

    sampling = "pairwise"

    def __init__(self, encoder, data=None, propensity=None, int_weight: float = 0.1,
                 pop_weight: float = 0.1, dis_pen: float = 0.01, margin: float = 10.0,
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        if data is None:
            raise ValueError("DICEHead needs the training data (item popularity)")
        self.int_weight, self.pop_weight = float(int_weight), float(pop_weight)
        self.dis_pen, self.margin, self.weight_decay = float(dis_pen), float(margin), \
            float(weight_decay)
        pop = data.popularity("item", positives_only=True).astype(np.float32)
        self.register_buffer("popularity", torch.from_numpy(pop), persistent=False)
        self.user_con = nn.Embedding(self.n_users, encoder.dim)
        self.item_con = nn.Embedding(self.n_items, encoder.dim)
        for emb in (self.user_con, self.item_con):
            nn.init.xavier_normal_(emb.weight)

    def forward(self, batch):
        if "neg_item" not in batch:
            raise KeyError("DICEHead needs pairwise batches: set dataset.sampling=pairwise")
        us, it, ng = batch["user"], batch["item"], batch["neg_item"]
        ui, ii, ji = (self.encoder.encode_users(us), self.encoder.encode_items(it),
                      self.encoder.encode_items(ng))
        uc, ic, jc = self.user_con(us), self.item_con(it), self.item_con(ng)
        pop_i, pop_j = self.popularity[it], self.popularity[ng]
        return {
            "int_pos": (ui * ii).sum(-1), "int_neg": (ui * ji).sum(-1),
            "con_pos": (uc * ic).sum(-1), "con_neg": (uc * jc).sum(-1),
            "o1": (pop_j > pop_i + self.margin).float(), "o2": (pop_j < pop_i - self.margin).float(),
            "dis": -(F.mse_loss(ui, uc) + F.mse_loss(torch.cat([ii, ji]), torch.cat([ic, jc]))),
            "reg": self.embedding_l2(ui, ii, ji, uc, ic, jc),
        }

    def loss(self, batch, o):
        total = -F.logsigmoid(o["int_pos"] + o["con_pos"] - o["int_neg"] - o["con_neg"]).mean()
        o1, o2 = o["o1"], o["o2"]
        interest = (-F.logsigmoid(o["int_pos"] - o["int_neg"]) * o1).sum() / o1.sum().clamp(min=1)
        con = (-F.logsigmoid(o["con_neg"] - o["con_pos"]) * o1
               - F.logsigmoid(o["con_pos"] - o["con_neg"]) * o2).sum() / (o1 + o2).sum().clamp(min=1)
        return (total + self.int_weight * interest + self.pop_weight * con
                + self.dis_pen * o["dis"] + self.weight_decay * o["reg"])

    def score(self, users, items):
        return (super().score(users, items)
                + (self.user_con(users) * self.item_con(items)).sum(-1))

    def full_scores(self, users):
        return super().full_scores(users) + self.user_con(users) @ self.item_con.weight.T
