"""Inverse-propensity-weighted (unbiased) top-K metrics for missing-not-at-random test data.

Yang, Cui, Belongie and Estrin 2018, "Unbiased Offline Recommender Evaluation for
Missing-Not-At-Random Implicit Feedback" (RecSys): with ``S_u`` the user's observed test
items and ``p_ui`` their observation propensities, the IPS estimate of a per-user metric
with gain ``c(rank)`` is ``1/|S_u| * sum_{i in S_u} c(rank_ui) / p_ui``; the self-normalised
(SNIPS) estimate divides by ``sum_{i in S_u} 1 / p_ui`` instead. Gains: ``recall`` is
``1[rank <= K]``, ``dcg`` is ``1[rank <= K] / log2(rank + 1)``.
"""

from __future__ import annotations

import torch

from .ranking import topk_hits

IPS_METRICS = ("recall", "dcg")


def ips_ranking_metrics(scores: torch.Tensor, target: torch.Tensor, propensity: torch.Tensor,
                        ks=(10,), exclude: torch.Tensor | None = None,
                        self_normalized: bool = True,
                        metrics=IPS_METRICS) -> dict[str, torch.Tensor]:
    """Per-user ``ips_<metric>@k`` (or ``snips_...``) values; users without targets dropped.

    ``propensity`` is ``[n_items]`` (item propensities) or ``[B, n_items]``.
    """
    target = target.bool()
    keep = target.any(1)
    scores, target = scores[keep], target[keep]
    if exclude is not None:
        exclude = exclude[keep]
    p = propensity.double()
    p = p.expand(len(scores), -1) if p.dim() == 1 else p[keep]
    if (p[target] <= 0).any():
        raise ValueError("ips_ranking_metrics: a test item has propensity <= 0")
    w = torch.where(target, 1.0 / p.clamp(min=1e-300), torch.zeros_like(p))
    denom = w.sum(1) if self_normalized else target.sum(1).double()
    kmax = max(ks)
    _, idx = topk_hits(scores, target, kmax, exclude)
    wk = w.gather(1, idx)  # weight of the item at each rank (0 when not a target)
    disc = 1.0 / torch.log2(torch.arange(2, wk.shape[1] + 2, dtype=torch.float64,
                                         device=wk.device))
    prefix = "snips" if self_normalized else "ips"
    out = {}
    for k in ks:
        for m in metrics:
            if m == "recall":
                num = wk[:, :k].sum(1)
            elif m == "dcg":
                num = (wk[:, :k] * disc[:k]).sum(1)
            else:
                raise ValueError(f"unknown IPS metric {m!r}; choose from {IPS_METRICS}")
            out[f"{prefix}_{m}@{k}"] = num / denom
    return out
