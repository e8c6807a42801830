"""Propensity models against hand computation and planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import InteractionData
from causalrec.heads import (
    LoggedPropensity,
    LogisticPropensity,
    NaiveBayesPropensity,
    PopularityPropensity,
)


def _data(df, n_users=4, n_items=5, **kw):
    return InteractionData(df, n_users, n_items, name="toy", source="toy.inter", **kw)


def test_popularity_propensity_formula():
    df = pd.DataFrame({"user": [0, 0, 1, 2, 3, 3], "item": [0, 1, 0, 0, 1, 2],
                       "label": [1.0] * 6})
    d = _data(df)
    p = PopularityPropensity(eta=0.5).fit(d)
    got = p(torch.zeros(5, dtype=torch.long), torch.arange(5))
    counts = np.array([3, 2, 1, 1, 1])  # items 3, 4 unseen: raised to min_count 1
    np.testing.assert_allclose(got.numpy(), (counts / 3) ** 0.5, rtol=1e-6)
    pu = PopularityPropensity(by="user", eta=1.0).fit(d)
    np.testing.assert_allclose(pu(torch.arange(4), torch.zeros(4, dtype=torch.long)).numpy(),
                               np.array([2, 1, 1, 2]) / 2)
    with pytest.raises(RuntimeError, match="before fit"):
        PopularityPropensity()(torch.tensor([0]), torch.tensor([0]))
    with pytest.raises(ValueError, match="'item' or 'user'"):
        PopularityPropensity(by="items")


def test_naive_bayes_propensity_by_hand():
    # logged (MNAR): ratings 5,5,5,4,1 ; randomized: 5,1,1,1
    df = pd.DataFrame({"user": [0, 1, 2, 3, 0, 1, 2, 3, 0],
                       "item": [0, 1, 2, 3, 4, 0, 1, 2, 3],
                       "rating": [5.0, 5, 5, 4, 1, 5, 1, 1, 1],
                       "policy": ["logging"] * 5 + ["uniform"] * 4})
    d = _data(df)
    nb = NaiveBayesPropensity(value="uniform", smoothing=0.0).fit(d)
    p_o = 5 / 20
    got = nb(torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long),
             torch.tensor([5.0, 1.0, 4.0]))
    want = [(3 / 5) * p_o / (1 / 4), (1 / 5) * p_o / (3 / 4), 1.0]  # 4: 1/5*p_o/0 -> clip 1
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    with pytest.raises(ValueError, match="randomized sample"):
        NaiveBayesPropensity(value="nope").fit(d)
    with pytest.raises(ValueError, match="labels"):
        nb(torch.zeros(1, dtype=torch.long), torch.zeros(1, dtype=torch.long))


def test_logistic_propensity_recovers_planted_feature_effect():
    rng = np.random.default_rng(0)
    n_users, n_items, n = 200, 50, 20000
    feat = rng.normal(size=n_items)
    users = rng.integers(0, n_users, n)
    items = rng.integers(0, n_items, n)
    p_true = 1 / (1 + np.exp(-(-0.5 + 1.5 * feat[items])))
    expo = (rng.random(n) < p_true).astype(np.float32)
    df = pd.DataFrame({"user": users, "item": items, "label": expo, "exposure": expo})
    d = _data(df, n_users, n_items, item_features=pd.DataFrame({"f": feat}))
    lp = LogisticPropensity(source="features", C=100.0).fit(d)
    got = lp(torch.zeros(n_items, dtype=torch.long), torch.arange(n_items)).numpy()
    want = 1 / (1 + np.exp(-(-0.5 + 1.5 * feat)))
    assert np.abs(got - want).max() < 0.05
    with pytest.raises(ValueError, match="user_features nor item_features"):
        LogisticPropensity().fit(_data(df, n_users, n_items))


def test_logistic_propensity_case_control_correction():
    """Observed pairs only (no exposure column): the sampled-negative fit is corrected to the
    population rate, so the mean propensity matches |observed| / |all pairs|."""
    rng = np.random.default_rng(1)
    n_users, n_items = 100, 80
    feat = rng.normal(size=n_items)
    keys = set()
    while len(keys) < 1500:
        i = int(rng.integers(0, n_items))
        if rng.random() < 1 / (1 + np.exp(-feat[i])):
            keys.add((int(rng.integers(0, n_users)), i))
    u, i = map(np.array, zip(*sorted(keys)))
    d = _data(pd.DataFrame({"user": u, "item": i}), n_users, n_items,
              item_features=pd.DataFrame({"f": feat}))
    lp = LogisticPropensity(negatives=4).fit(d)
    uu, ii = torch.meshgrid(torch.arange(n_users), torch.arange(n_items), indexing="ij")
    mean_p = lp(uu.reshape(-1), ii.reshape(-1)).mean().item()
    assert mean_p == pytest.approx(1500 / (n_users * n_items), rel=0.15)


def test_logged_propensity_lookup_and_missing_pairs():
    df = pd.DataFrame({"user": [0, 1, 1, 2], "item": [1, 0, 3, 2],
                       "propensity": [0.2, 0.5, 0.7, 0.9]})
    lp = LoggedPropensity().fit(_data(df))
    got = lp(torch.tensor([1, 0, 2]), torch.tensor([3, 1, 2]))
    np.testing.assert_allclose(got.numpy(), [0.7, 0.2, 0.9], rtol=1e-6)
    with pytest.raises(KeyError, match=r"not in the log, e.g. \[\(3, 3\)\]"):
        lp(torch.tensor([3]), torch.tensor([3]))
    lpd = LoggedPropensity(default=0.1).fit(_data(df))
    assert lpd(torch.tensor([3]), torch.tensor([3])).item() == pytest.approx(0.1)
    with pytest.raises(ValueError, match="'propensity' column"):
        LoggedPropensity().fit(_data(df.drop(columns="propensity")))
