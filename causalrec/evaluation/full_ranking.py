"""The one ranking-evaluation loop: :class:`RankingAccumulator` (batch by batch, used by the
LightningModule's validation/test steps) and :func:`evaluate` (a whole split, for any scorer:
notebooks, the Recommender, benchmarks and tests).

Evaluation scores every item for a batch of users (``scorer.full_scores``), masks the items
the user already interacted with (train for validation; train + validation for test), takes
``torch.topk`` once at the largest cut-off and derives every metric from the hit matrix.
Metrics are summed over users and divided by the number of evaluated users at the end
(RecBole's averaging); users without a target in the evaluated part are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from .popularity import popularity_diagnostics
from .ranking import METRIC_FNS, RANKING_METRICS, topk_hits, user_auc
from .unbiased import ips_ranking_metrics


def check_metrics(ks: Sequence[int], metrics: Sequence[str]) -> tuple[tuple[int, ...], tuple]:
    """Validated ``(ks, metrics)``: positive cut-offs and known metric names."""
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) <= 0:
        raise ValueError(f"model.ks must be positive cut-offs, got {list(ks)}")
    unknown = [m for m in metrics if m not in METRIC_FNS and m != "gauc"]
    if unknown:
        raise ValueError(f"unknown ranking metrics {unknown}; choose from "
                         f"{sorted(METRIC_FNS) + ['gauc']}")
    return ks, tuple(metrics)


class RankingAccumulator:
    """Sums of per-user ranking metrics (and top-K counts for the popularity diagnostics)
    over batches of users.

    Args:
        ks, metrics: cut-offs and metric names (RecBole definitions; ``gauc`` too).
        item_popularity: training interaction count per item; needed for the popularity
            diagnostics (``coverage``, ``gini``, ``avg_popularity``, ``tail_share``) and for
            the IPS metrics.
        diagnostics: compute the popularity diagnostics of the top-K lists.
        tail: the long-tail definition (see ``causalrec.evaluation.popularity.tail_items``).
        ips_eta: when set, also self-normalised IPS recall/DCG with item propensities
            ``(pop / max pop) ** ips_eta`` (Yang et al. 2018).
    """

    def __init__(self, ks: Sequence[int] = (10, 20), metrics: Sequence[str] = RANKING_METRICS,
                 item_popularity=None, diagnostics: bool = True, tail: float = 0.8,
                 ips_eta: float | None = None):
        self.ks, self.metrics = check_metrics(ks, metrics)
        self.item_popularity = (None if item_popularity is None else
                                torch.as_tensor(np.asarray(item_popularity), dtype=torch.float64))
        self.diagnostics = bool(diagnostics)
        self.tail = float(tail)
        self.ips_eta = ips_eta
        self.reset()

    def reset(self) -> None:
        self.sums: dict[str, torch.Tensor] = defaultdict(
            lambda: torch.zeros((), dtype=torch.float64))
        self.count = 0.0
        self.gauc = [0.0, 0.0]
        self.rec_counts: dict[int, torch.Tensor] = {}

    @torch.no_grad()
    def update(self, scores: torch.Tensor, target: torch.Tensor,
               exclude: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add one batch: ``scores`` ``[B, n_items]``, boolean ``target`` and ``exclude``
        masks of the same shape. Returns ``(kept, topk_idx)``: which rows had a target and
        their top-``max(ks)`` item indices (excluded items never appear)."""
        scores = scores.float()
        target, exclude = target.bool(), exclude.bool()
        n_targets = target.sum(1)
        keep = n_targets > 0
        if not bool(keep.all()):
            scores, target, exclude, n_targets = (scores[keep], target[keep], exclude[keep],
                                                  n_targets[keep])
        hits, idx = topk_hits(scores, target, max(self.ks), exclude)
        sums = self.sums
        for k in self.ks:
            hk = hits[:, :k]
            for m in self.metrics:
                if m != "gauc":
                    sums[f"{m}@{k}"] += METRIC_FNS[m](hk, n_targets).sum().cpu()
            if self.diagnostics:
                c = torch.bincount(idx[:, :k].reshape(-1), minlength=scores.shape[1]).cpu()
                self.rec_counts[k] = self.rec_counts[k] + c if k in self.rec_counts else c
        if "gauc" in self.metrics:
            auc, w = user_auc(scores, target, exclude)
            self.gauc[0] += float((auc * w).sum())
            self.gauc[1] += float(w.sum())
        if self.ips_eta is not None and self.item_popularity is not None:
            pop = self.item_popularity.clamp(min=1).to(scores.device)
            prop = (pop / pop.max()) ** float(self.ips_eta)
            for name, v in ips_ranking_metrics(scores, target, prop, self.ks, exclude).items():
                sums[name] += v.sum().cpu()
        self.count += len(n_targets)
        return keep, idx

    def reduce(self, gather) -> None:
        """Sum the state across processes with ``gather(tensor) -> stacked tensor`` (DDP:
        the LightningModule's ``all_gather``) before :meth:`compute`."""
        names = sorted(self.sums)
        packed = torch.stack([self.sums[n] for n in names] +
                             [torch.tensor(float(self.count), dtype=torch.float64),
                              torch.tensor(self.gauc[0], dtype=torch.float64),
                              torch.tensor(self.gauc[1], dtype=torch.float64)])
        packed = gather(packed).reshape(-1, len(names) + 3).sum(0).cpu()
        self.sums = defaultdict(lambda: torch.zeros((), dtype=torch.float64),
                                zip(names, packed[:len(names)]))
        self.count = float(packed[len(names)])
        self.gauc = [float(packed[-2]), float(packed[-1])]
        for k, c in self.rec_counts.items():
            self.rec_counts[k] = gather(c).reshape(-1, len(c)).sum(0).cpu()

    def compute(self) -> dict[str, float]:
        """The metrics averaged over evaluated users (names like ``ndcg@10``)."""
        count = self.count
        out = {name: float(total) / max(count, 1) for name, total in self.sums.items()}
        if "gauc" in self.metrics:
            out["gauc"] = self.gauc[0] / max(self.gauc[1], 1.0)
        if self.diagnostics and self.item_popularity is not None and count:
            for k, c in self.rec_counts.items():
                for name, value in popularity_diagnostics(
                        c, self.item_popularity.numpy(), count, k, self.tail).items():
                    out[f"{name}@{k}"] = value
        return out


def _as_split_masks(split, stage: str):
    if not hasattr(split, "eval_masks"):
        raise TypeError(f"evaluate needs a causalrec.data.Split (train/valid/test), got "
                        f"{type(split).__name__}")
    return split.eval_masks(stage)


@torch.no_grad()
def evaluate(scorer, split, ks: Sequence[int] = (10, 20),
             metrics: Sequence[str] = RANKING_METRICS, stage: str = "test",
             batch_size: int = 512, diagnostics: bool = True, tail: float = 0.8,
             ips_eta: float | None = None, return_topk: bool = False):
    """Evaluate ``scorer`` by full ranking on one part of ``split``.

    Args:
        scorer: anything with ``full_scores(users: LongTensor) -> Tensor[len(users), n_items]``
            (a head, a :class:`~causalrec.models.CausalRecModule`'s head, a Recommender).
        split: a :class:`causalrec.data.Split`; ``stage="valid"`` ranks against training
            items masked out, ``stage="test"`` against training and validation items masked.
        ks, metrics: cut-offs and metric names; diagnostics/tail/ips_eta as in
            :class:`RankingAccumulator` (popularity from the training part).
        batch_size: users scored at once.
        return_topk: also return ``{user index: top-max(ks) item indices}`` of every
            evaluated user.

    Returns:
        ``{f"{stage}/{metric}": value}`` (and the top-K dict when ``return_topk``).

    Example:
        >>> from causalrec.data import generate_interactions, make_split
        >>> from causalrec.evaluation import evaluate
        >>> import torch
        >>> split = make_split(generate_interactions(n_users=50, n_items=30, seed=0))
        >>> class Popular:  # scores items by training popularity
        ...     pop = torch.as_tensor(split.train.item_popularity(), dtype=torch.float32)
        ...     def full_scores(self, users):
        ...         return self.pop.expand(len(users), -1)
        >>> m = evaluate(Popular(), split, ks=[10], metrics=["recall", "ndcg"])
        >>> sorted(m)[:2], 0.0 <= m["test/ndcg@10"] <= 1.0
        (['test/avg_popularity@10', 'test/coverage@10'], True)
    """
    if stage not in ("valid", "test"):
        raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")
    if int(batch_size) <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    users, target, exclude = _as_split_masks(split, stage)
    acc = RankingAccumulator(ks, metrics, item_popularity=split.train.item_popularity(),
                             diagnostics=diagnostics, tail=tail, ips_eta=ips_eta)
    was_training = getattr(scorer, "training", None)
    if was_training:
        scorer.eval()
    topk: dict[int, np.ndarray] = {}
    try:
        for start in range(0, len(users), int(batch_size)):
            u = users[start:start + int(batch_size)]
            scores = scorer.full_scores(torch.from_numpy(u))
            t = torch.from_numpy(target[u].toarray().astype(bool))
            e = torch.from_numpy(exclude[u].toarray().astype(bool))
            keep, idx = acc.update(scores, t, e)
            if return_topk:
                for user, row in zip(u[keep.numpy()], idx.numpy()):
                    topk[int(user)] = row
    finally:
        if was_training:
            scorer.train()
    out = {f"{stage}/{k}": v for k, v in acc.compute().items()}
    return (out, topk) if return_topk else out
