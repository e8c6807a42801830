"""Propensity models: P(O_ui = 1), the probability that user u's feedback on item i is observed.

Each model is configured in ``__init__``, fitted once with ``fit(data)`` (by
:func:`causalrec.heads.build.build_head`, before training), and then called as
``model(users, items, labels=None) -> Tensor`` inside training steps, where it is a table
lookup, never a re-fit. The estimators follow Schnabel et al. 2016, "Recommendations as
Treatments: Debiasing Learning and Evaluation" (ICML), Section 5: popularity-based
propensities, Naive Bayes from a small missing-completely-at-random sample, and logistic
regression on user/item covariates. Logged propensities are read from the data when the
logging policy recorded them (e.g. the Open Bandit Dataset).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

from ..data.pairs import PairIndex
from .randomized import randomized_mask


class PropensityModel:
    """Base class: ``fit(data) -> self``; ``predict(users, items, labels=None) -> Tensor``."""

    #: set by models that read the encoder's representations in :meth:`fit`
    uses_encoder = False
    fitted = False

    def fit(self, data, encoder=None) -> PropensityModel:
        """Fit the model once on the training :class:`~causalrec.data.InteractionData`
        (and the encoder's representations where :attr:`uses_encoder`); returns ``self``."""
        raise NotImplementedError

    def predict(self, users: torch.Tensor, items: torch.Tensor,
                labels: torch.Tensor | None = None) -> torch.Tensor:
        """Propensities ``P(observed | user, item[, label])`` of the pairs, shape ``[B]``."""
        raise NotImplementedError

    def __call__(self, users, items, labels=None) -> torch.Tensor:
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is used before fit(data)")
        return self.predict(users, items, labels)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                         if not k.startswith("_") and k != "fitted")
        return f"{type(self).__name__}({args})"


class PopularityPropensity(PropensityModel):
    """Propensity proportional to popularity: ``p = (n / max n) ** eta``.

    ``by="item"`` uses item interaction counts (the item propensity of Yang et al. 2018,
    "Unbiased Offline Recommender Evaluation for Missing-Not-At-Random Implicit Feedback",
    RecSys; and of Saito et al. 2020 Rel-MF); ``by="user"`` uses user activity counts (the
    "MF-IPS (User)" of RecBole-Debias). Counts below ``min_count`` are raised to it so no
    propensity is zero. ``eta=0`` gives uniform propensities (naive learning).
    """

    def __init__(self, by: str = "item", eta: float = 0.5, min_count: float = 1.0):
        if by not in ("item", "user"):
            raise ValueError(f"PopularityPropensity.by must be 'item' or 'user', got {by!r}")
        if eta < 0:
            raise ValueError(f"PopularityPropensity.eta must be >= 0, got {eta}")
        self.by, self.eta, self.min_count = by, float(eta), float(min_count)

    def fit(self, data, encoder=None) -> PopularityPropensity:
        counts = data.popularity(self.by, positives_only=True).astype(np.float64)
        counts = np.maximum(counts, self.min_count)
        self.table_ = torch.from_numpy((counts / counts.max()) ** self.eta).float()
        self.fitted = True
        return self

    def predict(self, users, items, labels=None):
        idx = items if self.by == "item" else users
        return self.table_.to(idx.device)[idx]


class NaiveBayesPropensity(PropensityModel):
    """Naive Bayes propensities from a small randomized (MCAR) sample (Schnabel et al. 2016,
    Eq. 18): ``P(O=1 | Y=r) = P(Y=r | O=1) P(O=1) / P(Y=r)``.

    ``P(Y=r | O=1)`` and ``P(O=1)`` come from the logged (missing-not-at-random) rows;
    ``P(Y=r)`` from the randomized rows, those with ``data.interactions[column] == value``
    (by default the rows a uniform-random policy logged). Labels must take a small set of
    discrete values (0/1 clicks or 1..5 ratings); ``smoothing`` is add-alpha on both counts.
    """

    def __init__(self, column: str = "policy", value="random", smoothing: float = 1.0):
        self.column, self.value, self.smoothing = column, value, float(smoothing)

    def fit(self, data, encoder=None, randomized=None) -> NaiveBayesPropensity:
        df = data.interactions
        target = data.target_column
        if target is None:
            raise ValueError(f"NaiveBayesPropensity needs a 'label' or 'rating' column in "
                             f"{data.source}")
        mask = randomized_mask(df, self.column, self.value)
        logged = df[~mask]
        rand = randomized.interactions if randomized is not None else df[mask]
        if len(rand) == 0:
            raise ValueError(
                f"NaiveBayesPropensity needs a randomized sample: no rows of {data.source} have "
                f"{self.column} == {self.value!r} (pass randomized=<InteractionData> to fit)")
        values = np.unique(np.r_[logged[target].to_numpy(), rand[target].to_numpy()])
        if len(values) > 50:
            raise ValueError(f"NaiveBayesPropensity needs discrete labels; column {target!r} of "
                             f"{data.source} has {len(values)} distinct values")
        a = self.smoothing
        lo = np.searchsorted(values, logged[target].to_numpy())
        ra = np.searchsorted(values, rand[target].to_numpy())
        p_r_given_o = (np.bincount(lo, minlength=len(values)) + a) / (len(lo) + a * len(values))
        p_r = (np.bincount(ra, minlength=len(values)) + a) / (len(ra) + a * len(values))
        p_o = len(logged) / (float(data.n_users) * float(data.n_items))
        self.values_ = torch.from_numpy(values.astype(np.float64))
        with np.errstate(divide="ignore"):  # a value never seen at random: propensity 1
            ratio = np.where(p_r > 0, p_r_given_o * p_o / np.where(p_r > 0, p_r, 1.0), 1.0)
        self.table_ = torch.from_numpy(np.clip(ratio, 1e-12, 1.0)).float()
        self.fitted = True
        return self

    def predict(self, users, items, labels=None):
        if labels is None:
            raise ValueError("NaiveBayesPropensity depends on the label: call it with labels")
        values = self.values_.to(labels.device)
        idx = torch.searchsorted(values, labels.double().contiguous()).clamp(max=len(values) - 1)
        return self.table_.to(labels.device)[idx]


class LogisticPropensity(PropensityModel):
    """Logistic regression ``P(O=1 | x_u, x_i) = sigmoid(dot(w_u, x_u) + dot(w_i, x_i) + b)``
    (Schnabel et al. 2016, Section 5.1, "propensity estimation via logistic regression").

    Covariates ``x`` are the numeric/one-hot columns of ``data.user_features`` and
    ``data.item_features`` (``source="features"``), the encoder's user/item representations
    (``source="encoder"``, e.g. frozen intent embeddings of a text encoder), or both. The
    model is additive over user and item, so prediction is two table lookups.

    Training rows: when the data has an ``exposure`` column with both values, its rows
    (exposed vs. not); otherwise the observed pairs against ``negatives`` uniformly sampled
    pairs per observed one, with the intercept corrected for the sampling rate (King and
    Zeng 2001, "Logistic Regression in Rare Events Data").
    """

    uses_encoder = True

    def __init__(self, source: str = "features", negatives: int = 4, C: float = 1.0,
                 max_iter: int = 200, seed: int = 0):
        if source not in ("features", "encoder", "both"):
            raise ValueError(f"LogisticPropensity.source must be 'features', 'encoder' or "
                             f"'both', got {source!r}")
        self.source, self.negatives, self.C = source, int(negatives), float(C)
        self.max_iter, self.seed = int(max_iter), int(seed)

    @staticmethod
    def _table(frame, n: int, what: str, src: str) -> np.ndarray:
        if frame is None:
            raise ValueError(f"LogisticPropensity(source='features') needs {what} in {src}")
        frame = frame.reindex(range(n))
        num = frame.select_dtypes(include=[np.number, bool]).astype(float)
        cat = frame.drop(columns=num.columns)
        parts = [num.fillna(num.mean()).fillna(0.0)]
        if len(cat.columns):
            parts.append(pd.get_dummies(cat.astype(str), dtype=float))
        x = pd.concat(parts, axis=1).to_numpy(np.float64)
        sd = x.std(0)
        return (x - x.mean(0)) / np.where(sd > 0, sd, 1.0)

    def _covariates(self, data, encoder) -> tuple[np.ndarray, np.ndarray]:
        xu, xi = [], []
        if self.source in ("features", "both"):
            xu.append(self._table(data.user_features, data.n_users, "user_features", data.source)
                      if data.user_features is not None else np.zeros((data.n_users, 0)))
            xi.append(self._table(data.item_features, data.n_items, "item_features", data.source)
                      if data.item_features is not None else np.zeros((data.n_items, 0)))
            if xu[0].shape[1] + xi[0].shape[1] == 0:
                raise ValueError(f"LogisticPropensity(source='features'): {data.source} has "
                                 "neither user_features nor item_features")
        if self.source in ("encoder", "both"):
            if encoder is None:
                raise ValueError("LogisticPropensity(source='encoder') needs the encoder")
            if type(encoder).__name__ == "IDEncoder":
                warnings.warn("LogisticPropensity(source='encoder') over an IDEncoder reads "
                              "untrained random embeddings", RuntimeWarning, stacklevel=3)
            with torch.no_grad():
                xu.append(encoder.encode_users(torch.arange(data.n_users)).double().numpy())
                xi.append(encoder.encode_items(torch.arange(data.n_items)).double().numpy())
        return np.concatenate(xu, 1), np.concatenate(xi, 1)

    def fit(self, data, encoder=None) -> LogisticPropensity:
        from sklearn.linear_model import LogisticRegression

        xu, xi = self._covariates(data, encoder)
        u, i, y, correction = self._rows(data)
        x = np.concatenate([xu[u], xi[i]], 1)
        clf = LogisticRegression(C=self.C, max_iter=self.max_iter)
        clf.fit(x, y)
        w = clf.coef_[0]
        du = xu.shape[1]
        self.user_logit_ = torch.from_numpy(xu @ w[:du] + clf.intercept_[0] + correction).float()
        self.item_logit_ = torch.from_numpy(xi @ w[du:]).float()
        self.fitted = True
        return self

    def _rows(self, data) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Training rows (users, items, 0/1 targets) and the intercept correction."""
        df = data.interactions
        rng = np.random.default_rng(self.seed)
        if "exposure" in df.columns and df["exposure"].nunique() > 1:
            u, i = df["user"].to_numpy(), df["item"].to_numpy()
            y = (df["exposure"].to_numpy() > 0).astype(int)
            correction = 0.0
        else:
            pu, pi = df["user"].to_numpy(), df["item"].to_numpy()
            n_neg = max(1, self.negatives) * len(pu)
            nu = rng.integers(0, data.n_users, n_neg)
            ni = rng.integers(0, data.n_items, n_neg)
            u, i = np.r_[pu, nu], np.r_[pi, ni]
            y = np.r_[np.ones(len(pu), int), np.zeros(n_neg, int)]
            total = float(data.n_users) * float(data.n_items)
            pi_rate = min(len(pu) / total, 1 - 1e-9)
            correction = np.log(pi_rate / (1 - pi_rate)) - np.log(len(pu) / n_neg)
        return u, i, y, float(correction)

    def predict(self, users, items, labels=None):
        logit = self.user_logit_.to(users.device)[users] + self.item_logit_.to(items.device)[items]
        return torch.sigmoid(logit)


class LoggedPropensity(PropensityModel):
    """The propensities the logging policy recorded (the data's ``propensity`` column).

    Pairs absent from the log get ``default`` when it is set, else an error naming them.
    """

    def __init__(self, default: float | None = None):
        if default is not None and not 0 < default <= 1:
            raise ValueError(f"LoggedPropensity.default must lie in (0, 1], got {default}")
        self.default = default

    def fit(self, data, encoder=None) -> LoggedPropensity:
        df = data.interactions
        if "propensity" not in df.columns:
            raise ValueError(f"LoggedPropensity needs a 'propensity' column in {data.source} "
                             f"(columns: {list(df.columns)})")
        self.index_ = PairIndex(df["user"].to_numpy(), df["item"].to_numpy(), data.n_items,
                                values=df["propensity"].to_numpy(np.float64))
        self.fitted = True
        return self

    def predict(self, users, items, labels=None):
        found, pos = self.index_.find(users, items)
        out = self.index_.values.to(pos.device)[pos]
        if not bool(found.all()):
            if self.default is None:
                miss = (~found).nonzero().flatten()[:5]
                raise KeyError(
                    f"LoggedPropensity: {int((~found).sum())} (user, item) pairs are not in the "
                    f"log, e.g. {list(zip(users[miss].tolist(), items[miss].tolist()))}; set "
                    "default=<propensity> for unlogged pairs")
            out = torch.where(found, out, torch.full_like(out, self.default))
        return out
