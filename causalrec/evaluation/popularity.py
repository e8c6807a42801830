"""Popularity-bias diagnostics of top-K recommendation lists, with RecBole's definitions
(``ItemCoverage``, ``AveragePopularity``, ``GiniIndex``, ``TailPercentage``).

All are computed from ``rec_counts``: how often each item appears in the users' top-K
lists (so they can be accumulated batch by batch). ``item_popularity`` is the training
interaction count of each item.
"""

from __future__ import annotations

import numpy as np
import torch


def recommendation_counts(topk_idx: torch.Tensor, n_items: int) -> torch.Tensor:
    """Appearances of each item in the lists ``topk_idx`` ``[n_lists, K]``."""
    return torch.bincount(topk_idx.reshape(-1), minlength=n_items)


def tail_items(item_popularity, tail: float = 0.8) -> np.ndarray:
    """Boolean mask of long-tail items: with ``tail > 1``, items with at most ``tail``
    training interactions; with ``tail <= 1``, the ``tail`` fraction of least popular items
    (ties broken by item index, as RecBole)."""
    pop = np.asarray(item_popularity, dtype=np.float64)
    if tail > 1:
        return pop <= tail
    order = np.lexsort((np.arange(len(pop)), pop))
    cut = max(int(len(pop) * tail), 1)
    mask = np.zeros(len(pop), dtype=bool)
    mask[order[:cut]] = True
    return mask


def gini_index(rec_counts) -> float:
    """Gini index of the recommendation counts over all items (0 = every item equally
    often, towards 1 = a few items take every slot).

    Example:
        >>> from causalrec.evaluation import gini_index
        >>> gini_index([5, 5, 5, 5]), gini_index([0, 0, 0, 4])
        (0.0, 0.75)
    """
    c = np.sort(np.asarray(rec_counts, dtype=np.float64))
    n, total = len(c), c.sum()
    if total == 0:
        return 0.0
    idx = np.arange(1, n + 1)
    return float(np.sum((2 * idx - n - 1) * c) / (n * total))


def popularity_diagnostics(rec_counts, item_popularity, n_lists: int, k: int,
                           tail: float = 0.8) -> dict[str, float]:
    """``coverage`` (share of items recommended at least once), ``gini``,
    ``avg_popularity`` (mean training count of recommended items) and ``tail_share``
    (share of recommended slots that hold long-tail items)."""
    c = np.asarray(rec_counts.cpu() if hasattr(rec_counts, "cpu") else rec_counts,
                   dtype=np.float64)
    pop = np.asarray(item_popularity, dtype=np.float64)
    if len(c) != len(pop):
        raise ValueError(f"rec_counts has {len(c)} items but item_popularity has {len(pop)}")
    slots = float(n_lists) * float(k)
    if slots <= 0:
        raise ValueError("popularity_diagnostics needs at least one list")
    return {"coverage": float((c > 0).mean()), "gini": gini_index(c),
            "avg_popularity": float((c * pop).sum() / slots),
            "tail_share": float(c[tail_items(pop, tail)].sum() / slots)}
