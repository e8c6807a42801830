"""Full-ranking top-K metrics with RecBole's definitions, vectorised over users.

Every function takes ``hits`` (bool ``[B, K]``: is the item at rank r a target?) and
``n_targets`` (``[B]``), and returns one value per user; averaging over users gives the
metric as RecBole reports it.
"""

from __future__ import annotations

import torch

RANKING_METRICS = ("recall", "precision", "ndcg", "mrr", "hit", "map")


def topk_hits(scores: torch.Tensor, target: torch.Tensor, k: int,
              exclude: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank all items by score (``exclude`` masked out) and return (hits [B, k], topk idx)."""
    if exclude is not None:
        scores = scores.masked_fill(exclude, float("-inf"))
    k = min(k, scores.shape[1])
    idx = torch.topk(scores, k, dim=1).indices
    return target.gather(1, idx), idx


def _discount(k: int, device) -> torch.Tensor:
    return 1.0 / torch.log2(torch.arange(2, k + 2, device=device, dtype=torch.float64))


def recall(hits: torch.Tensor, n_targets: torch.Tensor) -> torch.Tensor:
    return hits.sum(1).double() / n_targets.double()


def precision(hits: torch.Tensor, n_targets: torch.Tensor) -> torch.Tensor:
    return hits.sum(1).double() / hits.shape[1]


def hit(hits: torch.Tensor, n_targets: torch.Tensor) -> torch.Tensor:
    return hits.any(1).double()


def mrr(hits: torch.Tensor, n_targets: torch.Tensor) -> torch.Tensor:
    h = hits.double()
    first = torch.argmax(h, dim=1)
    return torch.where(hits.any(1), 1.0 / (first.double() + 1.0), torch.zeros_like(first.double()))


def ndcg(hits: torch.Tensor, n_targets: torch.Tensor) -> torch.Tensor:
    k = hits.shape[1]
    disc = _discount(k, hits.device)
    dcg = (hits.double() * disc).sum(1)
    ideal_len = torch.clamp(n_targets, max=k)
    cum = torch.cumsum(disc, 0)
    idcg = cum[(ideal_len - 1).clamp(min=0)]
    return torch.where(ideal_len > 0, dcg / idcg, torch.zeros_like(dcg))


def map_(hits: torch.Tensor, n_targets: torch.Tensor) -> torch.Tensor:
    k = hits.shape[1]
    h = hits.double()
    ranks = torch.arange(1, k + 1, device=hits.device, dtype=torch.float64)
    prec_at = torch.cumsum(h, 1) / ranks
    return (prec_at * h).sum(1) / torch.clamp(n_targets, max=k).double()


METRIC_FNS = {"recall": recall, "precision": precision, "ndcg": ndcg, "mrr": mrr, "hit": hit,
              "map": map_}


def ranking_metrics(scores: torch.Tensor, target: torch.Tensor, ks=(10,),
                    exclude: torch.Tensor | None = None,
                    metrics=RANKING_METRICS) -> dict[str, torch.Tensor]:
    """Per-user values of each ``metric@k`` (users without targets are dropped)."""
    n_targets = target.sum(1)
    keep = n_targets > 0
    scores, target, n_targets = scores[keep], target[keep], n_targets[keep]
    if exclude is not None:
        exclude = exclude[keep]
    kmax = max(ks)
    hits, _ = topk_hits(scores, target, kmax, exclude)
    out = {}
    for k in ks:
        hk = hits[:, :k]
        for m in metrics:
            out[f"{m}@{k}"] = METRIC_FNS[m](hk, n_targets)
    return out
