"""Reward models ``q_hat(x, a, k) = E[r | x, a, k]`` for the Direct Method and the doubly
robust family, with k-fold cross-fitting.

A scikit-learn regressor or classifier is fitted on ``[context x_i, features of a_i]``
(and the slot, see ``per_position``) and queried for every action. Action features are
any of: the action's one-hot code, the log's ``action_context`` (item features), and an
``item_embeddings`` matrix ``[n_actions, d]`` - e.g. a causalrec intent encoder's
embeddings of the item text (``encoder.encode_items(all_items)``), so that items with
similar text share reward information.

Cross-fitting (Chernozhukov et al., "Double/debiased machine learning for treatment and
structural parameters", Econometrics Journal 2018; for OPE: Narita, Yasui & Yata,
"Debiased Off-Policy Evaluation for Recommendation Systems", RecSys 2021) predicts each
round with a model that did not see it, which keeps the DR estimators' bias from
over-fitting small. With ``per_position=True`` one model per slot is fitted, as in the
Open Bandit Pipeline's ``RegressionModel``; ``per_position=False`` fits one model with the
slot one-hot as features, pooling the (sparse) clicks of all slots.

Classifiers give ``q_hat = sum_c P(c | x, a) c`` (the click probability for 0/1 rewards).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import KFold

from causalrec.ope.feedback import LoggedFeedback, as_feedback

_ACTION_FEATURES = ("auto", "onehot", "context", "both", "none")
#: prediction chunks keep the design matrix under ~32M entries
_PREDICT_ELEMENTS = 32_000_000


def _default_model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=100, max_iter=10000, random_state=12345)


class RewardModel:
    """Cross-fitted reward model over context and action features.

    Args:
        base_model: an unfitted scikit-learn estimator (cloned for every fold/slot);
            default ``LogisticRegression(C=100, max_iter=10000)``, the OBP benchmark's.
        action_features: ``"auto"`` (the log's ``action_context`` if it has one, else the
            one-hot code - OBP's choice), ``"onehot"``, ``"context"``, ``"both"`` or
            ``"none"`` (only ``item_embeddings``).
        item_embeddings: optional ``[n_actions, d]`` item representations appended to the
            action features.
        per_position: one model per slot (True, OBP) or one pooled model with slot one-hot
            features (False).
        n_folds: cross-fitting folds in :meth:`fit_predict` (1 = fit and predict in-sample).
        seed: seeds the fold assignment (``KFold(shuffle=True, random_state=seed)``).
    """

    def __init__(self, base_model: Any = None, *, action_features: str = "auto",
                 item_embeddings: Any | None = None, per_position: bool = True,
                 n_folds: int = 3, seed: int | None = 12345):
        if action_features not in _ACTION_FEATURES:
            raise ValueError(f"action_features must be one of {_ACTION_FEATURES}, got "
                             f"{action_features!r}")
        if int(n_folds) < 1:
            raise ValueError(f"n_folds must be >= 1, got {n_folds}")
        if action_features == "none" and item_embeddings is None:
            raise ValueError("action_features='none' needs item_embeddings, otherwise the "
                             "model cannot tell actions apart")
        self.base_model = _default_model() if base_model is None else base_model
        self.action_features = action_features
        self.item_embeddings = None if item_embeddings is None else np.asarray(
            item_embeddings, dtype=np.float64)
        self.per_position = per_position
        self.n_folds = int(n_folds)
        self.seed = seed
        self.models_: list[Any] | None = None

    # ------------------------------------------------------------------ features
    def _action_matrix(self, fb: LoggedFeedback) -> np.ndarray:
        parts = []
        mode = self.action_features
        if mode == "auto":
            mode = "onehot" if fb.action_context is None else "context"
        if mode in ("context", "both"):
            if fb.action_context is None:
                raise ValueError(f"action_features={self.action_features!r} needs the log's "
                                 "action_context, which is missing")
            parts.append(np.asarray(fb.action_context, dtype=np.float64))
        if mode in ("onehot", "both"):
            parts.append(np.eye(fb.n_actions))
        if self.item_embeddings is not None:
            if self.item_embeddings.shape[0] != fb.n_actions:
                raise ValueError(f"item_embeddings has {self.item_embeddings.shape[0]} rows "
                                 f"but the log has n_actions={fb.n_actions}")
            parts.append(self.item_embeddings)
        return np.concatenate(parts, axis=1)

    def _context(self, fb: LoggedFeedback) -> np.ndarray:
        if fb.context is None:
            return np.zeros((fb.n_rounds, 0))
        return np.asarray(fb.context, dtype=np.float64)

    def _design(self, ctx: np.ndarray, act_feats: np.ndarray, actions: np.ndarray,
                positions: np.ndarray | None, n_positions: int) -> np.ndarray:
        cols = [ctx, act_feats[actions]]
        if positions is not None:
            cols.append(np.eye(n_positions)[positions])
        return np.concatenate(cols, axis=1)

    # ------------------------------------------------------------------ fit / predict
    def _fit(self, fb: LoggedFeedback, rows: np.ndarray) -> list[Any]:
        ctx, act = self._context(fb), self._action_matrix(fb)
        groups = ([rows[fb.position[rows] == k] for k in range(fb.n_positions)]
                  if self.per_position else [rows])
        models = []
        for k, idx in enumerate(groups):
            if idx.size == 0:
                raise ValueError(f"no training rounds at position {k}; use "
                                 "per_position=False to pool slots")
            y = fb.reward[idx]
            pos = None if self.per_position else fb.position[idx]
            x = self._design(ctx[idx], act, fb.action[idx], pos, fb.n_positions)
            if np.unique(y).size < 2:
                models.append(float(y[0]))  # a constant reward cannot be classified
                continue
            m = clone(self.base_model)
            m.fit(x, y)
            models.append(m)
        return models

    @staticmethod
    def _predict_model(model: Any, x: np.ndarray) -> np.ndarray:
        if isinstance(model, float):
            return np.full(x.shape[0], model)
        if is_classifier(model):
            return model.predict_proba(x) @ np.asarray(model.classes_, dtype=np.float64)
        return np.asarray(model.predict(x), dtype=np.float64)

    def _predict_rows(self, models: list[Any], fb: LoggedFeedback, rows: np.ndarray,
                      at_logged_position: bool) -> np.ndarray:
        ctx, act = self._context(fb), self._action_matrix(fb)
        a, p = fb.n_actions, fb.n_positions
        width = ctx.shape[1] + act.shape[1] + (0 if self.per_position else p)
        chunk = max(1, _PREDICT_ELEMENTS // max(1, a * width))
        out = np.empty((rows.size, a) if at_logged_position else (rows.size, a, p))
        all_actions = np.arange(a)
        for s in range(0, rows.size, chunk):
            r = rows[s:s + chunk]
            c = r.size
            xa = np.repeat(ctx[r], a, axis=0)
            acts = np.tile(all_actions, c)
            slots = [None] if at_logged_position else range(p)
            for k in slots:
                pos = np.repeat(fb.position[r], a) if k is None else np.full(c * a, k)
                x = self._design(xa, act, acts, None if self.per_position else pos, p)
                if self.per_position:
                    q = np.empty(c * a)
                    for kk in np.unique(pos):
                        sel = pos == kk
                        q[sel] = self._predict_model(models[kk], x[sel])
                else:
                    q = self._predict_model(models[0], x)
                if k is None:
                    out[s:s + c] = q.reshape(c, a)
                else:
                    out[s:s + c, :, k] = q.reshape(c, a)
        return out

    def fit(self, feedback: LoggedFeedback | Mapping[str, Any]) -> RewardModel:
        """Fit on the whole log (for :meth:`predict` on new rounds)."""
        fb = as_feedback(feedback)
        self.models_ = self._fit(fb, np.arange(fb.n_rounds))
        self._n_actions, self._n_positions = fb.n_actions, fb.n_positions
        return self

    def predict(self, feedback: LoggedFeedback | Mapping[str, Any], *,
                at_logged_position: bool = False) -> np.ndarray:
        """``q_hat`` ``[n_rounds, n_actions, n_positions]`` for the rounds of ``feedback``
        (or ``[n_rounds, n_actions]`` at each round's logged slot) from the fitted model."""
        if self.models_ is None:
            raise RuntimeError("RewardModel.predict called before fit")
        fb = as_feedback(feedback)
        return self._predict_rows(self.models_, fb, np.arange(fb.n_rounds), at_logged_position)

    def fit_predict(self, feedback: LoggedFeedback | Mapping[str, Any], *,
                    at_logged_position: bool = False) -> np.ndarray:
        """Cross-fitted ``q_hat``: with ``n_folds > 1`` each round is predicted by a model
        fitted on the other folds. Shape as :meth:`predict`."""
        fb = as_feedback(feedback)
        n = fb.n_rounds
        if self.n_folds == 1:
            self.fit(fb)
            return self.predict(fb, at_logged_position=at_logged_position)
        shape = (n, fb.n_actions) if at_logged_position else (n, fb.n_actions, fb.n_positions)
        out = np.empty(shape)
        folds = KFold(n_splits=self.n_folds, shuffle=True, random_state=self.seed)
        for train, test in folds.split(np.zeros(n)):
            models = self._fit(fb, train)
            out[test] = self._predict_rows(models, fb, test, at_logged_position)
        return out
