"""Semi-synthetic MovieLens-100K with a known full rating matrix (Schnabel et al. 2016).

The protocol of Schnabel, Swaminathan, Singh, Chandak and Joachims 2016, "Recommendations as
Treatments: Debiasing Learning and Evaluation" (ICML), section 6.1:

1. complete the partially observed ML-100K rating matrix with matrix factorisation fitted on
   the observed ratings (here: biased MF by alternating least squares, Koren, Bell and
   Volinsky 2009, "Matrix Factorization Techniques for Recommender Systems"; Hu, Koren and
   Volinsky 2008 for the ALS updates);
2. the completed matrix rates almost everything highly, so map it to a realistic, skewed
   rating distribution by quantiles: the bottom ``p1`` fraction of entries (by completed
   value) get rating 1, the next ``p2`` rating 2, and so on, with
   ``p = [0.52, 0.24, 0.14, 0.07, 0.03]`` (the distribution of ratings on randomly selected
   songs in Marlin and Zemel 2009's Yahoo! survey, used by the paper);
3. observe entries with propensity ``k`` for ratings 4 and 5 and ``k * alpha**(4 - r)`` for
   ratings ``r < 4`` (``alpha = 0.25`` by default), ``k`` chosen so that 5% of the matrix is
   observed in expectation; the observed entries are the biased (MNAR) training data.

Ground truth is the full matrix: :func:`simulate_semisynthetic` returns it as a
:class:`SemiSyntheticTruth` beside the data (whose JSON-able ``meta["truth"]`` holds the
protocol's numbers: ``k``, ``alpha``, the distribution, the completion RMSE). A randomized test
sample (entries chosen uniformly at random per user, like Coat and Yahoo! R3) is added with
``policy == "random"`` so the ``random_exposure`` split protocol applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.schema import DataValidationError, InteractionData

#: Marlin & Zemel (2009) rating distribution for ratings 1..5, as used by Schnabel et al.
TARGET_DISTRIBUTION = (0.52, 0.24, 0.14, 0.07, 0.03)


# ============================================================================ MF completion
@dataclass
class CompletionModel:
    """Biased matrix factorisation ``r_ui ~ mu + b_u + c_i + p_u . q_i``."""

    mu: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray

    def predict(self, users=None, items=None) -> np.ndarray:
        """The full completed matrix, or predictions for (users, items) pairs."""
        if users is None:
            return (self.mu + self.user_bias[:, None] + self.item_bias[None, :]
                    + self.user_factors @ self.item_factors.T)
        return (self.mu + self.user_bias[users] + self.item_bias[items]
                + np.einsum("nd,nd->n", self.user_factors[users], self.item_factors[items]))


def _als_side(mask: np.ndarray, target: np.ndarray, other: np.ndarray, reg: float) -> np.ndarray:
    """Solve every row's ridge regression of ``target`` on ``[other, 1]`` over its observed
    entries at once: returns ``[n_rows, d + 1]`` (factors and bias)."""
    x = np.hstack([other, np.ones((len(other), 1))])                 # [m, d+1]
    d1 = x.shape[1]
    outer = (x[:, :, None] * x[:, None, :]).reshape(len(x), d1 * d1)  # [m, (d+1)^2]
    gram = (mask @ outer).reshape(len(mask), d1, d1)
    gram += reg * np.eye(d1)[None]
    rhs = (mask * target) @ x
    return np.linalg.solve(gram, rhs[..., None])[..., 0]


def fit_mf(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, n_users: int,
           n_items: int, rank: int = 10, reg: float = 10.0, iters: int = 15,
           seed: int = 0) -> CompletionModel:
    """Biased MF by alternating least squares on the observed entries (dense, vectorised:
    fine for ML-100K-sized matrices). ``reg`` is the L2 penalty on factors and biases."""
    if rank < 1 or reg <= 0 or iters < 1:
        raise ValueError(f"need rank >= 1, reg > 0, iters >= 1; got {rank=}, {reg=}, {iters=}")
    rng = np.random.default_rng(seed)
    mask = np.zeros((n_users, n_items))
    r = np.zeros((n_users, n_items))
    mask[users, items] = 1.0
    r[users, items] = ratings
    mu = float(ratings.mean())
    p = rng.normal(scale=0.1, size=(n_users, rank))
    q = rng.normal(scale=0.1, size=(n_items, rank))
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(iters):
        sol = _als_side(mask, r - mu - bi[None, :], q, reg)
        p, bu = sol[:, :rank], sol[:, rank]
        sol = _als_side(mask.T, (r - mu - bu[:, None]).T, p, reg)
        q, bi = sol[:, :rank], sol[:, rank]
    return CompletionModel(mu, bu, bi, p, q)


def quantile_ratings(values: np.ndarray, distribution=TARGET_DISTRIBUTION) -> np.ndarray:
    """Map values to ratings 1..len(distribution) by quantiles: the bottom ``p1`` fraction
    get 1, the next ``p2`` get 2, ... (ties broken by position, so shares are exact)."""
    p = np.asarray(distribution, dtype=float)
    if p.ndim != 1 or len(p) < 2 or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError(f"target distribution must be non-negative and sum to 1, got {p}")
    flat = values.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.round(np.cumsum(p) * len(flat)).astype(np.int64)
    rank_rating = np.searchsorted(bounds, np.arange(len(flat)), side="right") + 1
    out = np.empty(len(flat), dtype=np.int8)
    out[order] = np.minimum(rank_rating, len(p))
    return out.reshape(values.shape)


def observation_propensities(ratings: np.ndarray, alpha: float = 0.25,
                             observed_fraction: float = 0.05) -> tuple[np.ndarray, float]:
    """Schnabel et al.'s MNAR propensities: ``k`` for ratings >= 4, ``k * alpha**(4 - r)``
    below, with ``k`` set so the expected observed share is ``observed_fraction``."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    if not 0 < observed_fraction <= 1:
        raise ValueError(f"observed_fraction must lie in (0, 1], got {observed_fraction}")
    rel = alpha ** np.maximum(0, 4 - ratings.astype(float))
    k = observed_fraction / rel.mean()
    if k > 1:
        raise ValueError(f"observed_fraction={observed_fraction} with alpha={alpha} needs "
                         f"k={k:.3f} > 1: lower the fraction or raise alpha")
    return k * rel, float(k)


# ============================================================================ truth and entry
@dataclass
class SemiSyntheticTruth:
    """The full rating matrix and the propensities that produced the observations."""

    ratings: np.ndarray            # [n_users, n_items] int8, 1..5
    propensities: np.ndarray       # [n_users, n_items] float
    k: float
    alpha: float
    distribution: tuple
    completion_rmse: float         # MF held-out RMSE on the source's observed ratings
    options: dict = field(default_factory=dict)

    def mse(self, predictions) -> float:
        """Mean squared error of a full prediction matrix against the true ratings."""
        pred = np.asarray(predictions, dtype=float)
        if pred.shape != self.ratings.shape:
            raise ValueError(f"predictions must have shape {self.ratings.shape}, got {pred.shape}")
        return float(((pred - self.ratings) ** 2).mean())

    def mae(self, predictions) -> float:
        pred = np.asarray(predictions, dtype=float)
        if pred.shape != self.ratings.shape:
            raise ValueError(f"predictions must have shape {self.ratings.shape}, got {pred.shape}")
        return float(np.abs(pred - self.ratings).mean())

    def policy_value(self, scores, k: int, relevant_from: int | None = None,
                     exclude=None) -> float:
        """Mean true rating (or, with ``relevant_from``, share of ratings >= it) of each
        user's top-``k`` items by ``scores`` [n_users, n_items]."""
        s = np.asarray(scores, dtype=float)
        if s.shape != self.ratings.shape:
            raise ValueError(f"scores must have shape {self.ratings.shape}, got {s.shape}")
        if exclude is not None:
            ex = exclude.toarray() if hasattr(exclude, "toarray") else np.asarray(exclude)
            s = np.where(ex.astype(bool), -np.inf, s)
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        r = np.take_along_axis(self.ratings, top, axis=1).astype(float)
        return float((r >= relevant_from).mean() if relevant_from else r.mean())

    def summary(self) -> dict:
        """The protocol's numbers as JSON-able values (what ``data.meta["truth"]`` holds)."""
        return {"k": self.k, "alpha": self.alpha, "distribution": list(self.distribution),
                "completion_rmse": self.completion_rmse, "options": dict(self.options),
                "shape": list(self.ratings.shape)}


@dataclass
class SemiSyntheticResult:
    """What :func:`simulate_semisynthetic` returns: the observed data and the full truth."""

    data: InteractionData
    truth: SemiSyntheticTruth


def _source_ratings(source) -> InteractionData:
    if source is None or isinstance(source, str):
        from ..data.registry import load

        source = load(source or "ml-100k", quiet=True)
    if not isinstance(source, InteractionData):
        raise DataValidationError(f"source must be a dataset name or an InteractionData, got "
                                  f"{type(source).__name__}")
    if "rating" not in source.interactions.columns:
        raise DataValidationError("the semi-synthetic protocol needs explicit ratings; the "
                                  f"source has columns {list(source.interactions.columns)}",
                                  source=source.source, column="rating")
    return source


def load_semisynthetic(source=None, **options) -> InteractionData:
    """The ``ml-100k-semisynthetic`` dataset: :func:`simulate_semisynthetic`'s data (same
    arguments); call that function for the full rating matrix."""
    return simulate_semisynthetic(source, **options).data


def simulate_semisynthetic(source=None, rank: int = 10, reg: float = 10.0, iters: int = 15,
                           distribution=TARGET_DISTRIBUTION, alpha: float = 0.25,
                           observed_fraction: float = 0.05, randomized_per_user: int = 10,
                           threshold: float | None = 4.0, holdout: float = 0.1,
                           seed: int = 0) -> SemiSyntheticResult:
    """The semi-synthetic protocol (see the module docstring): data and full truth.

    Args:
        source: the observed ratings to complete: a registry name (default ``"ml-100k"``)
            or an InteractionData with a ``rating`` column.
        rank, reg, iters: the ALS matrix factorisation (defaults: the best of rank 5/10/20 x
            reg 5/10/20 by RMSE on 10% held-out ML-100K ratings, 0.918; the paper also picks
            them by held-out error).
        distribution: target shares of ratings 1..5.
        alpha, observed_fraction: the MNAR observation model.
        randomized_per_user: entries per user revealed uniformly at random (``policy ==
            "random"``, propensity ``randomized_per_user / n_items``); 0 for none.
        threshold: add ``label = rating >= threshold`` (``None``: ratings only).
        holdout: share of the source's ratings held out to report the completion RMSE.
        seed: drives the MF initialisation, the held-out cut and the observations.
    """
    src = _source_ratings(source)
    df = src.interactions
    users = df["user"].to_numpy(np.int64)
    items = df["item"].to_numpy(np.int64)
    ratings = df["rating"].to_numpy(float)
    nu, ni = src.n_users, src.n_items
    rng = np.random.default_rng([seed, 2016])
    # held-out RMSE of the completion model (reported, then refit on everything)
    rmse = float("nan")
    if holdout > 0:
        test = rng.random(len(ratings)) < holdout
        m = fit_mf(users[~test], items[~test], ratings[~test], nu, ni, rank, reg, iters, seed)
        rmse = float(np.sqrt(np.mean((m.predict(users[test], items[test]) - ratings[test]) ** 2)))
    model = fit_mf(users, items, ratings, nu, ni, rank, reg, iters, seed)
    full = quantile_ratings(model.predict(), distribution)
    prop, k = observation_propensities(full, alpha, observed_fraction)
    observed = rng.random(full.shape) < prop
    ou, oi = np.nonzero(observed)
    parts = [pd.DataFrame({"user": ou.astype(np.int64), "item": oi.astype(np.int64),
                           "rating": full[ou, oi].astype(np.float32),
                           "propensity": prop[ou, oi], "policy": "logging"})]
    if randomized_per_user:
        if randomized_per_user > ni:
            raise ValueError(f"randomized_per_user={randomized_per_user} exceeds {ni} items")
        ru = np.repeat(np.arange(nu), randomized_per_user)
        ri = np.argsort(rng.random((nu, ni)), axis=1)[:, :randomized_per_user].reshape(-1)
        parts.append(pd.DataFrame({"user": ru.astype(np.int64), "item": ri.astype(np.int64),
                                   "rating": full[ru, ri].astype(np.float32),
                                   "propensity": randomized_per_user / ni, "policy": "random"}))
    inter = pd.concat(parts, ignore_index=True)
    inter["exposure"] = np.float32(1.0)
    if threshold is not None:
        inter["label"] = (inter["rating"] >= threshold).astype(np.float32)
    truth = SemiSyntheticTruth(
        ratings=full, propensities=prop, k=k, alpha=alpha, distribution=tuple(distribution),
        completion_rmse=rmse, options=dict(rank=rank, reg=reg, iters=iters, alpha=alpha,
                                           observed_fraction=observed_fraction, seed=seed))
    meta = {"truth": truth.summary(), "protocol": "schnabel2016", "policy_column": "policy",
            "logging_policy": "logging", "randomized_policy": "random"}
    data = InteractionData(
        interactions=inter, n_users=nu, n_items=ni, user_ids=src.user_ids, item_ids=src.item_ids,
        user_features=src.user_features, item_features=src.item_features,
        user_text=src.user_text, item_text=src.item_text,
        name=f"{src.name}-semisynthetic",
        source=f"causalrec.sim.semisynthetic(source={src.name!r}, alpha={alpha}, seed={seed})",
        meta=meta)
    return SemiSyntheticResult(data, truth)
