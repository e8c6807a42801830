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
with positive uplift can only produce TP or CN, one with negative uplift only TN or CP. CN
is by far the largest class and mostly items with no effect at all, so Sato et al. take a CN
item as positive only with probability ``alpha`` and as negative otherwise (section 3.1);
``alpha`` is the heads' one method-specific hyperparameter, which the paper tunes on
validation data. The heads need every logged row, treated and not (``data_needs``), like the
T-learner, and early-stop on the IPS estimate of causal DCG from the logged validation rows
(:data:`UPLIFT_MONITOR`), not on the outcome NDCG.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .base import Head

#: uplift heads see every logged row: exposure is their treatment, no sampled negatives
UPLIFT_NEEDS = {"train_rows": "all", "negatives": 0}
#: what uplift heads early-stop and checkpoint on (``model.monitor: auto``): the IPS-unbiased
#: estimate of causal DCG@10 from the logged validation rows and their propensities (Sato et
#: al. 2020), never the validation *outcome* NDCG, which rewards predicting purchases
UPLIFT_MONITOR = "val/ips_cdcg@10"


def uplift_classes(r: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Boolean masks of the four classes TP, TN, CP, CN from treatment and outcome."""
    r, y = r > 0, y > 0
    return {"TP": r & y, "TN": r & ~y, "CP": ~r & y, "CN": ~r & ~y}


def _treatment(batch) -> torch.Tensor:
    if "exposure" not in batch:
        raise KeyError("uplift heads need an 'exposure' (treatment: recommended) column in the "
                       "batch; use data with exposure and dataset.train_rows=all")
    return batch["exposure"]


def resolve_alpha(alpha, data=None) -> float:
    """``alpha`` as a number in [0, 1]; ``"auto"`` = ``e / (1 - e)`` with ``e`` the share of
    recommended rows in the training log (capped at 1).

    Why ``auto``: a row's expected uplift-based label is ``P(TP) + alpha P(CN) =
    e p1 + alpha (1 - e) (1 - p0)``; with ``alpha = e / (1 - e)`` this is ``e (p1 - p0) + e``,
    which orders items exactly by the effect ``tau = p1 - p0`` when recommendations are
    assigned at the average rate ``e``. Sato et al. tune ``alpha`` on validation data; this
    derivation fixes it without looking at any evaluation data. It assumes assignment at
    one rate: under a confounded logging policy, whose ``e`` varies by pair, the labels stay
    biased towards what is recommended anyway (on the semi-synthetic ML-100K protocol,
    ``auto`` ~ 0.19 gave ULRMF a far lower CP@10 than 0.5: ``scripts/bench/uplift.py``).
    """
    if isinstance(alpha, str):
        if alpha != "auto":
            raise ValueError(f"head.alpha must be a number in [0, 1] or 'auto', got {alpha!r}")
        df = getattr(data, "interactions", None)
        if df is None or "exposure" not in df.columns or not len(df):
            raise ValueError("head.alpha=auto needs training data with an 'exposure' column")
        e = float((df["exposure"].to_numpy() > 0).mean())
        return min(e / max(1 - e, 1e-12), 1.0)
    if not 0 <= float(alpha) <= 1:
        raise ValueError(f"head.alpha (the probability that a CN item is a positive) must lie "
                         f"in [0, 1], got {alpha}")
    return float(alpha)


class ULRMFHead(Head):
    """ULRMF (Sato et al. 2019, "Uplift-based evaluation and optimization of recommenders",
    RecSys): pointwise logistic matrix factorisation on the uplift-based labels. TP rows are
    positives, TN and CP rows negatives, and a CN row is a positive with probability
    ``alpha`` and a negative otherwise (the paper's sampling); every row is seen every epoch,
    so the CN label is replaced by its expectation: the target of a CN row is ``alpha``
    (the same expected loss and gradient as drawing the label).

    Args:
        alpha: probability that a CN row is a positive (Sato et al.'s ``alpha``), or
            ``"auto"`` (``resolve_alpha`` in this module: the treated share ``e / (1 - e)``).
        weight_decay: L2 on the batch's embeddings.
    """

    sampling = "pointwise"
    data_needs = UPLIFT_NEEDS
    monitor = UPLIFT_MONITOR

    def __init__(self, encoder, data=None, propensity=None, alpha: float | str = 0.5,
                 weight_decay: float = 0.0):
        super().__init__(encoder, data, propensity)
        self.alpha, self.weight_decay = resolve_alpha(alpha, data), float(weight_decay)

    def forward(self, batch):
        users, items, y = self.pointwise_view(batch)
        c = uplift_classes(_treatment(batch), y)
        u, v = self.encoder.encode_users(users), self.encoder.encode_items(items)
        target = torch.where(c["CN"], torch.full_like(y, self.alpha), c["TP"].float())
        return {"score": (u * v).sum(-1), "target": target, "reg": self.embedding_l2(u, v)}

    def loss(self, batch, o):
        bce = F.binary_cross_entropy_with_logits(o["score"], o["target"])
        return bce + self.weight_decay * o["reg"]


def _user_pools(users: np.ndarray, items: np.ndarray, n_users: int):
    """CSR-like ``(indptr, items)`` of each user's items, users in index order."""
    order = np.argsort(users, kind="stable")
    indptr = np.searchsorted(users[order], np.arange(n_users + 1))
    return (torch.as_tensor(indptr, dtype=torch.long),
            torch.as_tensor(items[order], dtype=torch.long))


def _draw_from(indptr, pool, users, gen) -> tuple[torch.Tensor, torch.Tensor]:
    """One uniform item of each user's pool (``-1`` where the pool is empty) and the sizes."""
    start, n = indptr[users], indptr[users + 1] - indptr[users]
    pick = start + (torch.rand(len(users), generator=gen) * n).long().clamp(max=(n - 1).clamp(min=0))
    out = torch.full((len(users),), -1, dtype=torch.long)
    has = n > 0
    if len(pool):
        out[has] = pool[pick[has]]
    return out, n


class ULBPRHead(Head):
    """ULBPR (Sato et al. 2019): Bayesian personalised ranking on uplift-based labels.
    Positives ``i`` are the batch's TP rows and its CN rows, a CN row counting with weight
    ``alpha`` (positive with probability ``alpha``); for each one a negative ``j`` of the
    same user is drawn from the training log's TN and CP items and its CN items, a CN item
    with probability weight ``1 - alpha`` (a negative with probability ``1 - alpha``), and
    ``log sigmoid(s_ui - s_uj)`` is maximised. A user with no such item gets a uniformly
    random item as ``j``.

    Args:
        alpha: probability that a CN item is a positive (Sato et al.'s ``alpha``), or
            ``"auto"`` (``resolve_alpha`` in this module).
        weight_decay: L2 on the batch's embeddings.
        seed: the generator of the negative draws.
    """

    sampling = "pointwise"
    data_needs = UPLIFT_NEEDS
    monitor = UPLIFT_MONITOR

    def __init__(self, encoder, data=None, propensity=None, alpha: float | str = 0.5,
                 weight_decay: float = 0.0, seed: int = 0):
        super().__init__(encoder, data, propensity)
        if data is None:
            raise ValueError("ULBPRHead needs the training data (its uplift-negative items)")
        self.alpha, self.weight_decay = resolve_alpha(alpha, data), float(weight_decay)
        df = data.interactions
        if "exposure" not in df.columns:
            raise ValueError(f"ULBPRHead needs an 'exposure' column in {data.source}")
        y = df[data.target_column].to_numpy() > 0
        r = df["exposure"].to_numpy() > 0
        u, i = df["user"].to_numpy(), df["item"].to_numpy()
        hard = (r & ~y) | (~r & y)  # TN or CP: never uplift
        cn = ~r & ~y
        self._hard = _user_pools(u[hard], i[hard], self.n_users)
        self._cn = _user_pools(u[cn], i[cn], self.n_users)
        self._gen = torch.Generator().manual_seed(int(seed))

    def _draw_negatives(self, users: torch.Tensor) -> torch.Tensor:
        """A TN/CP item with probability ``n_hard / (n_hard + (1 - alpha) n_cn)``, else a CN
        item: each TN/CP item weighs 1 and each CN item ``1 - alpha``."""
        cpu = users.cpu()
        hard, n_hard = _draw_from(*self._hard, cpu, self._gen)
        cn, n_cn = _draw_from(*self._cn, cpu, self._gen)
        mass_hard = n_hard.double()
        mass = mass_hard + (1 - self.alpha) * n_cn.double()
        take_hard = torch.rand(len(cpu), generator=self._gen).double() * mass < mass_hard
        out = torch.where(take_hard, hard, cn)
        empty = (mass <= 0) | (out < 0)
        out[empty] = torch.randint(0, self.n_items, (int(empty.sum()),), generator=self._gen)
        return out.to(users.device)

    def forward(self, batch):
        users, items, y = self.pointwise_view(batch)
        c = uplift_classes(_treatment(batch), y)
        pos = c["TP"] | (c["CN"] if self.alpha > 0 else torch.zeros_like(c["CN"]))
        users, items = users[pos], items[pos]
        weight = torch.where(c["CN"][pos], self.alpha, 1.0).to(torch.float32)
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
    """DLCE (Sato, Takemori, Singh and Ohkuma 2020, "Unbiased learning for the causal effect
    of recommendation", RecSys): empirical risk minimisation of the IPS-unbiased estimate of
    a causal ranking metric with a pairwise logistic surrogate. Each logged row gets the
    capped IPS-transformed outcome ``Y Z / max(P, chi) - Y (1 - Z) / max(1 - P, chi)``
    (unbiased for the effect ``tau`` without capping; ``P`` = the logging policy's
    propensity of ``Z = 1``) and an item ``j`` drawn uniformly from all items; a positive
    weight pulls ``s_ui`` above ``s_uj`` by ``log(1 + e^-(s_ui - s_uj))``, a negative one
    pushes it below by ``log(1 + e^(s_ui - s_uj))``. Rows with ``Y = 0`` carry no weight.

    Args:
        clip: the propensity cap ``chi`` (the paper's capping: it bounds the weights by
            ``1 / chi``, trading a small bias for variance).
        weight_decay: L2 on the batch's embeddings (the paper's regulariser).
        seed: the generator of the items ``j``.
    """

    sampling = "pointwise"
    data_needs = UPLIFT_NEEDS
    monitor = UPLIFT_MONITOR

    def __init__(self, encoder, data=None, propensity=None, clip: float = 0.01,
                 weight_decay: float = 0.0, seed: int = 0):
        super().__init__(encoder, data, propensity)
        if not 0 < float(clip) < 0.5:
            raise ValueError(f"head.clip must lie in (0, 0.5), got {clip}")
        self.clip, self.weight_decay = float(clip), float(weight_decay)
        self._gen = torch.Generator().manual_seed(int(seed))

    def forward(self, batch):
        users, items, y = self.pointwise_view(batch)
        r = (_treatment(batch) > 0).float()
        p = self.propensities(users, items, y, batch)
        j = torch.randint(0, self.n_items, (len(users),), generator=self._gen).to(users.device)
        u = self.encoder.encode_users(users)
        i, vj = self.encoder.encode_items(items), self.encoder.encode_items(j)
        return {"diff": (u * i).sum(-1) - (u * vj).sum(-1),
                "w_pos": y * r / p.clamp(min=self.clip),
                "w_neg": y * (1 - r) / (1 - p).clamp(min=self.clip),
                "reg": self.embedding_l2(u, i, vj, per=2)}

    def loss(self, batch, o):
        d = o["diff"]
        per_row = o["w_pos"] * F.softplus(-d) + o["w_neg"] * F.softplus(d)
        return per_row.mean() + self.weight_decay * o["reg"]
