"""IPS estimates of CP@K / CDCG@K from logged rows (Sato et al. 2020): hand-computed values,
unbiasedness against the true metrics over many simulated logs, and the logged-data entry
point that training early-stops on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import InteractionData
from causalrec.evaluation import causal_ranking_metrics
from causalrec.evaluation.causal import ips_causal_ranking_from_rows, logged_causal_metrics


def test_hand_computed_values():
    # user 0 logs items with scores 0.9, 0.1, 0.5 -> ranking rows 0, 2, 1; user 1: rows 4, 3
    scores = [0.9, 0.1, 0.5, 0.2, 0.7]
    users = [0, 0, 0, 1, 1]
    y = [1, 1, 1, 1, 0]
    z = [1, 1, 0, 0, 1]
    p = [0.25, 0.5, 0.2, 0.5, 0.4]
    # IPS-transformed outcomes: 4, 2, -1/0.8, -2, 0
    m = ips_causal_ranking_from_rows(scores, users, y, z, p, ks=(1, 2))
    assert m["ips_cp@1"] == pytest.approx((4 + 0) / 2)
    assert m["ips_cp@2"] == pytest.approx(((4 - 1.25) / 2 + (0 - 2) / 2) / 2)
    d2 = 1 / np.log2(3)
    assert m["ips_cdcg@2"] == pytest.approx(((4 - 1.25 * d2) + (0 - 2 * d2)) / 2)
    # fewer than K logged items: the sum over all of them, CP still divided by K
    m = ips_causal_ranking_from_rows(scores, users, y, z, p, ks=(3,))
    assert m["ips_cp@3"] == pytest.approx(((4 + 2 - 1.25) / 3 + (0 - 2) / 3) / 2)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="lengths differ"):
        ips_causal_ranking_from_rows([0.1, 0.2], [0], [1], [1], [0.5])
    with pytest.raises(ValueError, match="cut-offs"):
        ips_causal_ranking_from_rows([0.1], [0], [1], [1], [0.5], ks=(0,))
    data = InteractionData(pd.DataFrame({"user": [0], "item": [0], "label": [1]}), 1, 1)
    with pytest.raises(ValueError, match=r"\['exposure', 'propensity'\]"):
        logged_causal_metrics(None, data)


def _world(seed=0, n_users=40, n_items=7):
    rng = np.random.default_rng(seed)
    p0 = rng.uniform(0.0, 0.5, (n_users, n_items))
    p1 = np.clip(p0 + rng.normal(0.1, 0.25, (n_users, n_items)), 0, 1)
    prop = rng.uniform(0.05, 0.95, (n_users, n_items))
    scores = rng.normal(size=(n_users, n_items))
    return p0, p1, prop, scores


class _Fixed:
    def __init__(self, scores):
        self.scores = torch.as_tensor(scores)

    def full_scores(self, users):
        return self.scores[users]


def test_the_estimate_is_unbiased_for_the_true_metrics():
    """Oracle: every (user, item) pair is logged; over many logs drawn from the potential
    outcomes (Z ~ Bernoulli(P), Y = Y(Z)), the mean estimate equals CP@K / CDCG@K of the
    true effects p1 - p0 computed by :func:`causal_ranking_metrics` (an independent code
    path), within 4 standard errors; the naive difference without the propensities
    (``Y Z - Y (1 - Z)``) is far off, so the test can tell."""
    p0, p1, prop, scores = _world()
    n_users, n_items = p0.shape
    truth = causal_ranking_metrics(_Fixed(scores), p1 - p0, ks=(3,))
    users = np.repeat(np.arange(n_users), n_items)
    s, pr = scores.ravel(), prop.ravel()
    rng = np.random.default_rng(1)
    est, naive = [], []
    for _ in range(1000):
        z = rng.random(len(users)) < pr
        u = rng.random(len(users))
        y = np.where(z, u < p1.ravel(), u < p0.ravel())
        est.append(ips_causal_ranking_from_rows(s, users, y, z, pr, ks=(3,)))
        naive.append(ips_causal_ranking_from_rows(s, users, y, z, np.full(len(users), 0.5),
                                                  ks=(3,)))
    for name in ("cp@3", "cdcg@3"):
        v = np.array([e[f"ips_{name}"] for e in est])
        se = v.std(ddof=1) / np.sqrt(len(v))
        assert abs(v.mean() - truth[name]) < 4 * se, (name, v.mean(), truth[name], se)
        w = np.array([e[f"ips_{name}"] for e in naive]) / 2  # Y Z / 0.5 - ... = 2 x naive
        assert abs(w.mean() - truth[name]) > 10 * se, (name, w.mean(), truth[name])


def test_logged_metrics_read_the_rows_and_the_scorers_full_scores():
    p0, p1, prop, scores = _world(2, n_users=6, n_items=5)
    rng = np.random.default_rng(3)
    rows = [(u, i) for u in range(6) for i in range(5) if rng.random() < 0.6]
    u = np.array([r[0] for r in rows])
    i = np.array([r[1] for r in rows])
    z = (rng.random(len(rows)) < prop[u, i]).astype(np.int8)
    y = (rng.random(len(rows)) < np.where(z, p1[u, i], p0[u, i])).astype(np.int8)
    df = pd.DataFrame({"user": u, "item": i, "label": y, "exposure": z,
                       "propensity": prop[u, i]})
    data = InteractionData(df, 6, 5)
    got = logged_causal_metrics(_Fixed(scores), data, ks=(2,), batch_size=4)
    want = ips_causal_ranking_from_rows(scores[u, i], u, y, z, prop[u, i], ks=(2,))
    assert got == pytest.approx(want)
