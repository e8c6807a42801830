"""Value metrics on (prediction, label) pairs with RecBole's definitions: AUC, MSE, MAE."""

from __future__ import annotations

import numpy as np


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64).reshape(-1)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks in ascending order, tied values sharing their average rank."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.r_[0, np.flatnonzero(xs[1:] != xs[:-1]) + 1]
    ends = np.r_[starts[1:], len(xs)]
    avg = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def auc(scores, labels) -> float:
    """ROC AUC of ``scores`` against 0/1 ``labels`` (Mann-Whitney with averaged ties, as
    RecBole's ``AUC``); raises when one class is missing."""
    s, y = _np(scores), _np(labels) > 0
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"AUC needs both classes; got {n_pos} positives and {n_neg} negatives")
    r = average_ranks(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def mse(predictions, labels) -> float:
    p, y = _np(predictions), _np(labels)
    return float(np.mean((p - y) ** 2))


def mae(predictions, labels) -> float:
    p, y = _np(predictions), _np(labels)
    return float(np.mean(np.abs(p - y)))


def rmse(predictions, labels) -> float:
    return float(np.sqrt(mse(predictions, labels)))
