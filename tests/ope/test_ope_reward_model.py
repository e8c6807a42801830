"""The cross-fitted reward model: fold hygiene, per-slot vs pooled fitting against a direct
scikit-learn fit, action features and item embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalrec.ope import LoggedFeedback, RewardModel
from causalrec.ope.synthetic import random_feedback


class RowRecorder(RegressorMixin, BaseEstimator):
    """Predicts 1 for rows it was trained on (row id in feature 0), else 0."""

    def fit(self, x, y):
        self.seen_ = set(x[:, 0].astype(int).tolist())
        return self

    def predict(self, x):
        return np.isin(x[:, 0].astype(int), list(self.seen_)).astype(float)


def _log(n=240, a=4, p=3, seed=0, row_ids=False):
    return random_feedback(n, a, p, seed, reward_rate=0.4, context_dim=2, row_ids=row_ids)


def test_cross_fitting_never_predicts_a_round_with_a_model_that_saw_it():
    fb = _log(row_ids=True)
    crossed = RewardModel(RowRecorder(), n_folds=3, seed=0).fit_predict(fb)
    assert crossed.shape == (fb.n_rounds, fb.n_actions, fb.n_positions)
    assert crossed.max() == 0.0
    # in-sample fitting (one fold) does see every round, through its own slot's model
    insample = RewardModel(RowRecorder(), n_folds=1).fit_predict(fb)
    rows = np.arange(fb.n_rounds)
    assert (insample[rows, :, fb.position] == 1.0).all()
    # per-slot models are trained on their slot's rounds only
    rm = RewardModel(RowRecorder()).fit(fb)
    for k, m in enumerate(rm.models_):
        assert (fb.position[sorted(m.seen_)] == k).all()
        assert len(m.seen_) == (fb.position == k).sum()


@pytest.mark.parametrize("per_position", [True, False])
def test_logistic_reward_model_equals_a_direct_fit(per_position):
    fb = _log(seed=1)
    lr = LogisticRegression(C=1.0, max_iter=1000)
    q = RewardModel(lr, per_position=per_position, n_folds=1).fit_predict(fb)
    eye_a, eye_p = np.eye(fb.n_actions), np.eye(fb.n_positions)

    def design(ctx, act, pos):
        cols = [ctx, eye_a[act]] + ([] if per_position else [eye_p[pos]])
        return np.concatenate(cols, axis=1)

    for k in range(fb.n_positions):
        rows = fb.position == k if per_position else np.ones(fb.n_rounds, bool)
        ref = LogisticRegression(C=1.0, max_iter=1000).fit(
            design(fb.context[rows], fb.action[rows], fb.position[rows]), fb.reward[rows])
        for a in range(fb.n_actions):
            x = design(fb.context, np.full(fb.n_rounds, a), np.full(fb.n_rounds, k))
            np.testing.assert_allclose(q[:, a, k], ref.predict_proba(x)[:, 1], atol=1e-8)


def test_at_logged_position_is_the_full_prediction_at_the_logged_slot():
    fb = _log(seed=2)
    rm = RewardModel(LinearRegression(), n_folds=3, seed=5)
    full = rm.fit_predict(fb)
    at = rm.fit_predict(fb, at_logged_position=True)
    np.testing.assert_allclose(at, full[np.arange(fb.n_rounds), :, fb.position])


def test_item_embeddings_let_the_model_generalise_across_items():
    """Rewards linear in (context, item embedding): with only the embeddings as action
    features a linear model recovers q for every action, including an action never logged."""
    rng = np.random.default_rng(3)
    n, a = 300, 6
    emb = rng.normal(size=(a, 3))
    ctx = rng.normal(size=(n, 2))
    act = rng.integers(0, a - 1, n)                       # action 5 is never logged
    w_e, w_c = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.3])
    reward = emb[act] @ w_e + ctx @ w_c
    fb = LoggedFeedback.build(act, reward, np.full(n, 0.2), context=ctx, n_actions=a)
    q = RewardModel(LinearRegression(), action_features="none", item_embeddings=emb,
                    n_folds=2).fit_predict(fb)
    truth = (emb @ w_e)[None, :] + (ctx @ w_c)[:, None]
    np.testing.assert_allclose(q[:, :, 0], truth, atol=1e-8)


def test_action_context_and_constant_folds():
    fb = _log(seed=4)
    ac = np.random.default_rng(0).normal(size=(fb.n_actions, 2))
    fb_ac = LoggedFeedback.build(fb.action, fb.reward, fb.pscore, fb.position, fb.context,
                                 action_context=ac)
    q_auto = RewardModel(LinearRegression(), n_folds=1).fit_predict(fb_ac)
    q_ctx = RewardModel(LinearRegression(), action_features="context",
                        n_folds=1).fit_predict(fb_ac)
    np.testing.assert_allclose(q_auto, q_ctx)
    # a slot whose clicks are all zero is predicted as zero, not an error
    zero = LoggedFeedback.build(fb.action, np.where(fb.position == 0, 0, fb.reward),
                                fb.pscore, fb.position, fb.context)
    q = RewardModel(LogisticRegression(max_iter=500), n_folds=1).fit_predict(zero)
    assert (q[:, :, 0] == 0).all()


def test_reward_model_errors():
    fb = _log()
    with pytest.raises(ValueError, match="needs the log's action_context"):
        RewardModel(action_features="context").fit_predict(fb)
    with pytest.raises(ValueError, match="item_embeddings has 3 rows"):
        RewardModel(item_embeddings=np.zeros((3, 2))).fit_predict(fb)
    with pytest.raises(ValueError, match="needs item_embeddings"):
        RewardModel(action_features="none")
    with pytest.raises(RuntimeError, match="before fit"):
        RewardModel().predict(fb)
    one_slot = LoggedFeedback.build(fb.action, fb.reward, fb.pscore,
                                    np.zeros(fb.n_rounds, int), fb.context, n_positions=2)
    with pytest.raises(ValueError, match="no training rounds at position 1"):
        RewardModel(LinearRegression()).fit_predict(one_slot)
