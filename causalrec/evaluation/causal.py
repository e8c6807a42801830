"""Causal metrics against ground truth (a simulator's potential outcomes) or randomized logs.

- :func:`ate_abs_error` and :func:`pehe`: accuracy of average and individual effect
  estimates (Hill 2011, "Bayesian Nonparametric Modeling for Causal Inference", JCGS: PEHE).
- :func:`uplift_curve`, :func:`auuc`, :func:`qini_curve`, :func:`qini`: how well a ranking by
  estimated uplift sorts units by their effect, from treated/control outcomes (Radcliffe
  2007, "Using control groups to target on predicted lift"; Gutierrez and Gerardy 2017,
  "Causal Inference and Uplift Modelling: A Review of the Literature").
- :func:`causal_precision_at_k`: the mean true effect of recommending the top-K items (Sato,
  Takemori, Singh and Ohkuma 2020, "Unbiased Learning for the Causal Effect of
  Recommendation", RecSys: CP@K; :func:`causal_dcg_at_k` is their CDCG).
- :func:`ips_causal_ranking_from_rows` and :func:`logged_causal_metrics`: the same two
  metrics estimated without ground truth, from logged rows with known propensities (ibid.:
  the IPS-unbiased estimators; what uplift heads early-stop on).
"""

from __future__ import annotations

import numpy as np
import torch


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def ate_abs_error(tau_hat, tau_true) -> float:
    """``|mean(tau_hat) - mean(tau_true)|`` over the same units."""
    a, b = _np(tau_hat).reshape(-1), _np(tau_true).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"tau_hat has {a.shape[0]} units but tau_true has {b.shape[0]}")
    return float(abs(a.mean() - b.mean()))


def pehe(tau_hat, tau_true) -> float:
    """Precision in estimating heterogeneous effects: ``sqrt(mean((tau_hat - tau)^2))``."""
    a, b = _np(tau_hat).reshape(-1), _np(tau_true).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"tau_hat has {a.shape[0]} units but tau_true has {b.shape[0]}")
    return float(np.sqrt(np.mean((a - b) ** 2)))


def _sorted_cumulative(score, treatment, outcome):
    s, t, y = _np(score).reshape(-1), _np(treatment).reshape(-1) > 0, _np(outcome).reshape(-1)
    if not (len(s) == len(t) == len(y)):
        raise ValueError(f"score, treatment and outcome lengths differ: {len(s)}, {len(t)}, "
                         f"{len(y)}")
    order = np.argsort(-s, kind="mergesort")
    t, y = t[order], y[order]
    nt, nc = np.cumsum(t), np.cumsum(~t)
    yt, yc = np.cumsum(y * t), np.cumsum(y * ~t)
    return nt, nc, yt, yc


def uplift_curve(score, treatment, outcome) -> np.ndarray:
    """``u(n) = (Y_t(n)/N_t(n) - Y_c(n)/N_c(n)) * n`` for the top ``n = 0..N`` units by
    ``score`` (0 while an arm is empty); ``Y``/``N`` are outcome sums/counts per arm."""
    nt, nc, yt, yc = _sorted_cumulative(score, treatment, outcome)
    n = np.arange(1, len(nt) + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where((nt > 0) & (nc > 0), (yt / np.maximum(nt, 1) - yc / np.maximum(nc, 1)) * n,
                     0.0)
    return np.r_[0.0, u]


def qini_curve(score, treatment, outcome) -> np.ndarray:
    """``q(n) = Y_t(n) - Y_c(n) * N_t(n) / N_c(n)`` for ``n = 0..N`` (0 while no control)."""
    nt, nc, yt, yc = _sorted_cumulative(score, treatment, outcome)
    q = np.where(nc > 0, yt - yc * nt / np.maximum(nc, 1), 0.0)
    return np.r_[0.0, q]


def _area_over_random(curve: np.ndarray) -> float:
    n = len(curve) - 1
    if n <= 0:
        return 0.0
    random_line = np.arange(n + 1) / n * curve[-1]
    return float(np.mean(curve[1:] - random_line[1:]) / n)


def auuc(score, treatment, outcome, normalize: bool = True) -> float:
    """Area under the uplift curve per unit: ``mean_n u(n) / N``; with ``normalize`` the
    area of a random ordering (the chord from 0 to ``u(N)``) is subtracted first, so 0 is
    random and larger is better."""
    u = uplift_curve(score, treatment, outcome)
    n = len(u) - 1
    if normalize:
        return _area_over_random(u)
    return float(np.mean(u[1:]) / n) if n else 0.0


def qini(score, treatment, outcome) -> float:
    """Qini coefficient: the area between the Qini curve and the random chord, per unit."""
    return _area_over_random(qini_curve(score, treatment, outcome))


def _topk(scores: torch.Tensor, k: int, exclude: torch.Tensor | None):
    if exclude is not None:
        scores = scores.masked_fill(exclude.bool(), float("-inf"))
    return torch.topk(scores, min(k, scores.shape[1]), dim=1).indices


def causal_precision_at_k(scores: torch.Tensor, tau: torch.Tensor, k: int,
                          exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Per-user CP@K: mean true effect ``tau_ui = Y_ui(1) - Y_ui(0)`` of the top-K items by
    ``scores`` (``[B, n_items]`` both). Average over users for the metric."""
    idx = _topk(scores, k, exclude)
    return tau.double().gather(1, idx).mean(1)


def causal_dcg_at_k(scores: torch.Tensor, tau: torch.Tensor, k: int,
                    exclude: torch.Tensor | None = None) -> torch.Tensor:
    """Per-user CDCG@K: ``sum_{r <= K} tau_{u, item at r} / log2(r + 1)``."""
    idx = _topk(scores, k, exclude)
    disc = 1.0 / torch.log2(torch.arange(2, idx.shape[1] + 2, dtype=torch.float64,
                                         device=idx.device))
    return (tau.double().gather(1, idx) * disc).sum(1)


@torch.no_grad()
def causal_ranking_metrics(scorer, tau, ks=(10,), users=None, exclude=None,
                           batch_size: int = 512) -> dict[str, float]:
    """CP@K and CDCG@K of ``scorer``'s full rankings against the true effects ``tau``
    (``[n_users, n_items]``: e.g. a simulator's ``p1 - p0``), averaged over ``users`` (all by
    default). ``exclude`` (bool ``[n_users, n_items]``) masks items out of the ranking.
    ``scorer`` is anything with ``full_scores(users)``, as for
    :func:`causalrec.evaluation.evaluate`."""
    tau = torch.as_tensor(np.asarray(tau), dtype=torch.float64)
    users = torch.arange(tau.shape[0]) if users is None else torch.as_tensor(users).long()
    ks = [int(k) for k in ks]
    if not ks or min(ks) <= 0 or max(ks) > tau.shape[1]:
        raise ValueError(f"ks must be cut-offs in 1..{tau.shape[1]}, got {ks}")
    sums = {f"{m}@{k}": 0.0 for k in ks for m in ("cp", "cdcg")}
    for start in range(0, len(users), int(batch_size)):
        u = users[start:start + int(batch_size)]
        s = scorer.full_scores(u).double()
        ex = None if exclude is None else torch.as_tensor(np.asarray(exclude))[u].bool()
        for k in ks:
            sums[f"cp@{k}"] += float(causal_precision_at_k(s, tau[u], k, ex).sum())
            sums[f"cdcg@{k}"] += float(causal_dcg_at_k(s, tau[u], k, ex).sum())
    return {name: v / max(len(users), 1) for name, v in sums.items()}


def ips_effect(outcome, treatment, propensity, clip: float = 1e-3) -> np.ndarray:
    """Unbiased per-row effect estimate from logs (Sato et al. 2020, Eq. 5):
    ``Y Z / p - Y (1 - Z) / (1 - p)``; its mean over a list estimates CP@K without ground
    truth. ``p`` is clipped to ``[clip, 1 - clip]`` (unbiased while every logged ``p`` lies
    inside; clipping a smaller one trades bias for variance)."""
    y, z = _np(outcome), _np(treatment) > 0
    p = np.clip(_np(propensity), clip, 1 - clip)
    return y * z / p - y * ~z / (1 - p)


def ips_causal_ranking_from_rows(scores, users, outcome, treatment, propensity,
                                 ks=(10,), clip: float = 1e-3) -> dict[str, float]:
    """CP@K and CDCG@K estimated from logged rows only, without the potential outcomes
    (Sato, Takemori, Singh and Ohkuma 2020, "Unbiased Learning for the Causal Effect of
    Recommendation", RecSys: the IPS estimators of the causal ranking metrics).

    Each user's logged items are ranked by ``scores`` (one per row; ties keep row order) and
    every item in the top K contributes its IPS-transformed outcome
    ``Y Z / P - Y (1 - Z) / (1 - P)`` (``ips_effect`` in this module) where the true metric has its
    effect ``tau``: ``CP@K = 1/K sum_{r <= K} tau_r`` and ``CDCG@K = sum_{r <= K} tau_r /
    log2(r + 1)``, averaged over the users with logged rows. With the logging policy's
    propensities (every ``P`` inside ``[clip, 1 - clip]``) the expectation over treatment
    assignment and outcomes equals the true CP@K / CDCG@K of the same ranking of the same
    logged items. A user with fewer than K logged items contributes its sum over all of them
    (still divided by K for CP).

    Args:
        scores, users, outcome, treatment, propensity: one entry per logged row.
        ks: cut-offs.
        clip: propensities are clipped to ``[clip, 1 - clip]``.

    Returns:
        ``{"ips_cp@K": ..., "ips_cdcg@K": ...}`` for every K.
    """
    s, u = _np(scores).reshape(-1), np.asarray(_np(users), dtype=np.int64).reshape(-1)
    tau_hat = ips_effect(outcome, treatment, propensity, clip).reshape(-1)
    if not (len(s) == len(u) == len(tau_hat)):
        raise ValueError(f"scores, users and outcome/treatment/propensity lengths differ: "
                         f"{len(s)}, {len(u)}, {len(tau_hat)}")
    if np.isnan(tau_hat).any() or not np.isfinite(s).all():
        raise ValueError("logged rows hold a missing outcome/treatment/propensity or a "
                         "non-finite score")
    ks = [int(k) for k in ks]
    if not ks or min(ks) <= 0:
        raise ValueError(f"ks must be positive cut-offs, got {ks}")
    order = np.lexsort((np.arange(len(s)), -s, u))  # by user, then score descending
    u, tau_hat = u[order], tau_hat[order]
    starts = np.r_[0, np.flatnonzero(np.diff(u)) + 1]
    rank = np.arange(len(u)) - np.repeat(starts, np.diff(np.r_[starts, len(u)]))
    n_users = max(len(starts), 1)
    out = {}
    for k in ks:
        top = rank < k
        out[f"ips_cp@{k}"] = float(tau_hat[top].sum() / k / n_users)
        out[f"ips_cdcg@{k}"] = float((tau_hat[top] / np.log2(rank[top] + 2)).sum() / n_users)
    return out


@torch.no_grad()
def logged_causal_metrics(scorer, data, ks=(10,), clip: float = 1e-3,
                          batch_size: int = 512) -> dict[str, float]:
    """:func:`ips_causal_ranking_from_rows` of ``scorer``'s scores on the rows of ``data``
    (an :class:`~causalrec.data.InteractionData` part, e.g. a validation split, with
    ``exposure`` = recommended and the logging policy's ``propensity``). The scores are
    read from ``scorer.full_scores(users)``, the ranking that evaluation and recommendation
    use. Only the logged rows are read: the potential outcomes are never needed."""
    df = data.interactions
    missing = [c for c in ("exposure", "propensity") if c not in df.columns]
    if missing:
        raise ValueError(f"logged causal metrics need the columns {missing} in "
                         f"{getattr(data, 'source', 'the data')} (exposure = recommended, "
                         "propensity = the logging policy's P(recommended)); without them "
                         "monitor an outcome metric (model.monitor=val/ndcg@10)")
    users = df["user"].to_numpy(np.int64)
    items = df["item"].to_numpy(np.int64)
    scores = np.empty(len(df))
    uniq, pos = np.unique(users, return_inverse=True)  # pos: each row's user among uniq
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(0, len(uniq) + batch_size, batch_size))
    for c, start in enumerate(range(0, len(uniq), int(batch_size))):
        chunk = uniq[start:start + int(batch_size)]
        full = scorer.full_scores(torch.as_tensor(chunk)).double().cpu().numpy()
        rows = order[bounds[c]:bounds[c + 1]]
        scores[rows] = full[pos[rows] - start, items[rows]]
    y = df[data.target_column].to_numpy(np.float64) > 0
    return ips_causal_ranking_from_rows(scores, users, y, df["exposure"].to_numpy(),
                                        df["propensity"].to_numpy(np.float64), ks, clip)
