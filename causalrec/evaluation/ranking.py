"""Full-ranking top-K metrics with RecBole's definitions, vectorised over users.

RecBole 1.2.1's ``recbole/evaluator/metrics.py`` defines them; ``user_auc`` gives its GAUC.
Every top-K function takes ``hits`` (bool ``[B, K]``: is the item at rank r a target?) and
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


def user_auc(scores: torch.Tensor, target: torch.Tensor,
             exclude: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-user AUC over the full item ranking: the share of (target, non-target) pairs,
    excluded items left out, that the scores order correctly (ties count 1/2).

    Returns ``(auc [B], n_targets [B])``; RecBole's GAUC is the ``n_targets``-weighted mean
    (users without a target or without a non-target get weight 0 and AUC 0).
    """
    target = target.bool()
    neg = ~target if exclude is None else ~target & ~exclude.bool()
    s = scores.double()
    inf = torch.tensor(float("inf"), dtype=s.dtype, device=s.device)
    neg_sorted = torch.sort(torch.where(neg, s, inf), dim=1).values
    less = torch.searchsorted(neg_sorted, s.contiguous(), side="left").double()
    leq = torch.searchsorted(neg_sorted, s.contiguous(), side="right").double()
    n_neg = neg.sum(1).double()
    less, leq = torch.minimum(less, n_neg[:, None]), torch.minimum(leq, n_neg[:, None])
    correct = torch.where(target, less + 0.5 * (leq - less), torch.zeros_like(less)).sum(1)
    n_pos = target.sum(1).double()
    pairs = n_pos * n_neg
    auc = torch.where(pairs > 0, correct / pairs.clamp(min=1), torch.zeros_like(correct))
    return auc, torch.where(pairs > 0, n_pos, torch.zeros_like(n_pos))


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
