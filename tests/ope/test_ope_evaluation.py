"""Evaluation of the estimators: relative errors over OBP-style bootstrap resamples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalrec.ope import (
    DirectMethod,
    DoublyRobust,
    InverseProbabilityWeighting,
    LoggedFeedback,
    evaluate_estimators,
    plot_relative_errors,
    round_inputs,
    summarize_relative_errors,
)
from causalrec.ope.evaluation import OBP_PUBLISHED_BTS_FROM_RANDOM_ALL
from causalrec.ope.synthetic import random_action_dist, random_feedback


def _log(n=300, a=5, p=2, seed=0):
    rng = np.random.default_rng(seed)
    fb = random_feedback(n, a, p, rng, context_dim=2)
    return fb, random_action_dist(1, a, p, rng)


def mean_reward_model(fb: LoggedFeedback) -> np.ndarray:
    """A reward model fitted on the resample: each (action, slot)'s mean reward."""
    q = np.full((fb.n_actions, fb.n_positions), fb.reward.mean())
    for a in range(fb.n_actions):
        for k in range(fb.n_positions):
            m = (fb.action == a) & (fb.position == k)
            if m.any():
                q[a, k] = fb.reward[m].mean()
    return np.broadcast_to(q, (fb.n_rounds, *q.shape))


def test_relative_errors_follow_the_obp_resampling_protocol():
    fb, ad = _log()
    ests = [DirectMethod(), InverseProbabilityWeighting(), DoublyRobust()]
    truth = 0.31
    err = evaluate_estimators(fb, ad, truth, estimators=ests, reward_model=mean_reward_model,
                              n_resamples=4, seed=10)
    assert err.shape == (4, 3) and list(err.columns) == ["dm", "ipw", "dr"]
    # resample 2 by hand: OBP's RandomState(seed + b).choice draw, reward model refitted
    rows = np.random.RandomState(12).choice(np.arange(fb.n_rounds), size=fb.n_rounds,
                                            replace=True)
    fb2 = fb.take(rows)
    inputs = round_inputs(fb2, ad, mean_reward_model(fb2))
    for e in ests:
        expected = abs(e.point_estimate(inputs) - truth) / truth
        assert err.loc[2, e.name] == pytest.approx(expected)
    assert (err.attrs["estimates"].sub(truth).abs() / truth).equals(err)


def test_summary_and_plot():
    errors = pd.DataFrame({"dm": [0.1, 0.3], "ipw": [0.2, 0.6]})
    s = summarize_relative_errors(errors, OBP_PUBLISHED_BTS_FROM_RANDOM_ALL)
    assert list(s.index) == ["dm", "ipw"]
    assert s.loc["dm", "mean"] == pytest.approx(0.2)
    assert s.loc["ipw", "std"] == pytest.approx(np.std([0.2, 0.6], ddof=1))
    assert s.loc["dm", "published_mean"] == pytest.approx(0.156876)
    # |0.2 - 0.156876| <= 0.109898 ; |0.4 - 0.311082| <= 0.311170
    assert s["within_published_std"].all()
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_relative_errors(errors, OBP_PUBLISHED_BTS_FROM_RANDOM_ALL)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dm", "ipw"]
    assert ax.get_ylabel() == "relative estimation error"


def test_evaluate_estimators_errors():
    fb, ad = _log()
    with pytest.raises(ValueError, match="non-zero truth"):
        evaluate_estimators(fb, ad, 0.0, estimators=[InverseProbabilityWeighting()])
    with pytest.raises(ValueError, match="pass reward_model"):
        evaluate_estimators(fb, ad, 0.3, estimators=[DoublyRobust()])
