"""Evaluation policies as action distributions ``action_dist[n_rounds, n_actions,
n_positions]`` (``pi_e(a | x_i, k)``, the Open Bandit Pipeline layout) for the off-policy
estimators of :mod:`causalrec.ope.estimators`.

* :func:`uniform_policy` - every action equally likely at every slot (OBD's ``random``).
* :func:`topk_policy` - deterministic ranking by a score matrix (e.g. a causalrec model's
  ``Head.full_scores``): the ``k``-th best action fills slot ``k``.
* :func:`softmax_policy` - a stochastic ranking: actions drawn without replacement with
  probabilities ``softmax(scores / temperature)`` (the Plackett-Luce model; Plackett 1975,
  Luce 1959). Slot marginals are exact for up to three slots (``O(n_actions^2)`` per round)
  and Monte Carlo (Gumbel-top-k, Kool et al. ICML 2019) beyond.
* :func:`bernoulli_ts_action_dist` - Bernoulli Thompson Sampling (Thompson 1933;
  Chapelle & Li, NeurIPS 2011) ranking by posterior draws, the slot marginals computed by
  Monte Carlo as the Open Bandit Pipeline does for OBD's ``bts`` policy;
  :func:`beta_prior_from_logs` builds its Beta parameters from a log's click counts.

Context-free policies are returned with a leading axis of length 1; the estimators
broadcast it over rounds (``np.broadcast_to`` gives the OBP-shaped view if needed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from causalrec.ope.feedback import LoggedFeedback, as_feedback


def _scores(scores: Any) -> np.ndarray:
    if hasattr(scores, "detach"):  # a torch tensor, without importing torch
        scores = scores.detach().cpu().numpy()
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be a matrix [n_rounds, n_actions], got shape {s.shape}")
    if not np.isfinite(s).all():
        bad = np.flatnonzero(~np.isfinite(s).all(axis=1))[:5].tolist()
        raise ValueError(f"scores must be finite; rows {bad} are not")
    return s


def _check_positions(n_actions: int, n_positions: int) -> None:
    if n_positions < 1:
        raise ValueError(f"n_positions must be >= 1, got {n_positions}")
    if n_positions > n_actions:
        raise ValueError(f"a list of {n_positions} slots needs at least as many actions, "
                         f"got n_actions={n_actions}")


def uniform_policy(n_actions: int, n_positions: int = 1, n_rounds: int = 1) -> np.ndarray:
    """Uniform random ranking: ``pi(a | x, k) = 1 / n_actions`` for every slot ``k``."""
    _check_positions(n_actions, n_positions)
    return np.full((n_rounds, n_actions, n_positions), 1.0 / n_actions)


def topk_policy(scores: Any, n_positions: int = 1) -> np.ndarray:
    """Deterministic top-K ranking: slot ``k`` holds the action with the ``k``-th highest
    score (ties go to the lower action index)."""
    s = _scores(scores)
    n, a = s.shape
    _check_positions(a, n_positions)
    top = np.argsort(-s, axis=1, kind="stable")[:, :n_positions]
    dist = np.zeros((n, a, n_positions))
    rows = np.repeat(np.arange(n), n_positions)
    dist[rows, top.ravel(), np.tile(np.arange(n_positions), n)] = 1.0
    return dist


def _softmax(s: np.ndarray) -> np.ndarray:
    z = s - s.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _plackett_luce_exact(p: np.ndarray, n_positions: int) -> np.ndarray:
    """Exact slot marginals of Plackett-Luce sampling for up to three slots.

    slot 0: ``p_a``; slot 1: ``p_a sum_{b!=a} p_b / (1 - p_b)``; slot 2:
    ``p_a sum_{b!=c, b,c != a} M[b, c]`` with ``M[b, c] = p_b p_c / ((1 - p_b)(1 - p_b - p_c))``.
    """
    n, a = p.shape
    eps = 1e-300
    out = np.empty((n, a, n_positions))
    out[:, :, 0] = p
    if n_positions >= 2:
        r = p / np.maximum(1.0 - p, eps)
        out[:, :, 1] = p * (r.sum(axis=1, keepdims=True) - r)
    if n_positions >= 3:
        chunk = max(1, 4_000_000 // (a * a))
        for s in range(0, n, chunk):
            pc = p[s:s + chunk]
            denom = np.maximum(1.0 - pc[:, :, None] - pc[:, None, :], eps)
            m = (pc / np.maximum(1.0 - pc, eps))[:, :, None] * pc[:, None, :] / denom
            idx = np.arange(a)
            m[:, idx, idx] = 0.0
            total = m.sum(axis=(1, 2))[:, None]
            out[s:s + chunk, :, 2] = pc * (total - m.sum(axis=2) - m.sum(axis=1))
    return out


def softmax_policy(scores: Any, n_positions: int = 1, temperature: float = 1.0, *,
                   n_samples: int = 2000, seed: int | None = 0) -> np.ndarray:
    """Stochastic ranking from scores: actions are drawn without replacement with
    probabilities ``softmax(scores / temperature)`` (Plackett-Luce), and
    ``action_dist[i, a, k]`` is the probability that action ``a`` fills slot ``k``.

    Exact for ``n_positions <= 3``; for longer lists the marginals are estimated from
    ``n_samples`` Gumbel-top-k draws per round (seeded).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    s = _scores(scores) / temperature
    n, a = s.shape
    _check_positions(a, n_positions)
    p = _softmax(s)
    if n_positions <= 3:
        return _plackett_luce_exact(p, n_positions)
    rng = np.random.default_rng(seed)
    out = np.zeros((n, a, n_positions))
    logp = np.log(np.maximum(p, 1e-300))
    for i in range(n):
        g = logp[i] + rng.gumbel(size=(n_samples, a))
        top = np.argpartition(-g, n_positions - 1, axis=1)[:, :n_positions]
        order = np.argsort(-np.take_along_axis(g, top, axis=1), axis=1)
        ranked = np.take_along_axis(top, order, axis=1)
        counts = np.bincount((ranked * n_positions + np.arange(n_positions)).ravel(),
                             minlength=a * n_positions)
        out[i] = counts.reshape(a, n_positions) / n_samples
    return out


def bernoulli_ts_action_dist(alpha: Any, beta: Any, n_positions: int = 1, *,
                             n_sim: int = 100_000, seed: int | None = 0,
                             chunk_size: int = 20_000) -> np.ndarray:
    """Slot marginals ``[1, n_actions, n_positions]`` of a Bernoulli Thompson Sampling
    ranking, by Monte Carlo.

    Each simulation draws ``theta_a ~ Beta(alpha_a, beta_a)`` for every action and ranks the
    actions by ``theta``; slot ``k`` holds the ``k``-th largest. ``action_dist[0, a, k]`` is
    the fraction of the ``n_sim`` simulations in which ``a`` filled slot ``k`` - the
    procedure the Open Bandit Pipeline uses to evaluate OBD's ``bts`` policy (Saito et al.
    2021), vectorised over simulations.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    if alpha.ndim != 1 or alpha.shape != beta.shape:
        raise ValueError(f"alpha and beta must be vectors of equal length, got shapes "
                         f"{alpha.shape} and {beta.shape}")
    if not ((alpha > 0).all() and (beta > 0).all()):
        raise ValueError("Beta parameters must be > 0; actions "
                         f"{np.flatnonzero((alpha <= 0) | (beta <= 0))[:5].tolist()} are not")
    n_sim = int(n_sim)
    if n_sim < 1:
        raise ValueError(f"n_sim must be >= 1, got {n_sim}")
    a = alpha.shape[0]
    _check_positions(a, n_positions)
    rng = np.random.default_rng(seed)
    counts = np.zeros(a * n_positions, dtype=np.int64)
    slot = np.arange(n_positions)
    for start in range(0, n_sim, chunk_size):
        c = min(chunk_size, n_sim - start)
        theta = rng.beta(alpha, beta, size=(c, a))
        if n_positions < a:
            top = np.argpartition(-theta, n_positions - 1, axis=1)[:, :n_positions]
        else:
            top = np.broadcast_to(np.arange(a), (c, a))
        order = np.argsort(-np.take_along_axis(theta, top, axis=1), axis=1)
        ranked = np.take_along_axis(top, order, axis=1)
        counts += np.bincount((ranked * n_positions + slot).ravel(),
                              minlength=a * n_positions)
    return (counts.reshape(a, n_positions) / n_sim)[None]


def beta_prior_from_logs(feedback: LoggedFeedback | Any, prior_alpha: float = 1.0,
                         prior_beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Beta posterior parameters of every action's click rate from a log with binary
    rewards: ``alpha_a = prior_alpha + clicks_a``, ``beta_a = prior_beta + impressions_a -
    clicks_a`` (all slots pooled, as a Bernoulli TS policy updates)."""
    fb = as_feedback(feedback)
    r = fb.reward
    if not np.isin(r, (0.0, 1.0)).all():
        raise ValueError("Bernoulli Thompson Sampling needs binary rewards; rows "
                         f"{np.flatnonzero(~np.isin(r, (0.0, 1.0)))[:5].tolist()} are not 0/1")
    clicks = np.bincount(fb.action, weights=r, minlength=fb.n_actions)
    shown = np.bincount(fb.action, minlength=fb.n_actions)
    return prior_alpha + clicks, prior_beta + shown - clicks
