"""Split protocols: RecBole's counting rule, determinism, and each protocol's invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalrec.data as crd
from causalrec.data.splits import _ratio_counts, split_fingerprint


def recbole_counts(tot: int, ratios: list[float]) -> list[int]:
    """RecBole 1.2.1 ``Dataset._calcu_split_ids`` counting rule, written as a plain loop."""
    cnt = [int(r * tot) for r in ratios]
    cnt[0] = tot - sum(cnt[1:])
    for i in range(1, len(ratios)):
        if cnt[0] <= 1:
            break
        if 0 < ratios[-i] * tot < 1:
            cnt[-i] += 1
            cnt[0] -= 1
    return cnt


@pytest.mark.parametrize("ratios", [(0.8, 0.1, 0.1), (0.7, 0.2, 0.1), (0.25, 0.25, 0.5),
                                    (0.6, 0.0, 0.4)])
def test_ratio_counts_follow_recbole(ratios):
    tot = sum(ratios)
    r = [x / tot for x in ratios]
    n = np.arange(0, 400)
    got = _ratio_counts(n, r)
    want = np.array([recbole_counts(int(k), r) for k in n])
    np.testing.assert_array_equal(got, want)
    # e.g. a user with 5 interactions: 3 train, 1 valid, 1 test (0.5 rounds up to one each)
    assert recbole_counts(5, [0.8, 0.1, 0.1]) == [3, 1, 1]


@pytest.fixture(scope="module")
def ml():
    return crd.load("ml-100k", quiet=True)


@pytest.fixture(scope="module")
def small():
    return crd.generate_interactions(n_users=60, n_items=80, per_user=9, seed=3)


def parts(split):
    return [p.interactions for p in (split.train, split.valid, split.test)]


def test_random_split_is_recbole_default(ml):
    split = crd.make_split(ml, "random", seed=0)
    # RecBole 1.2.1 itself (BPR, default eval_args) builds 80,808 / 9,596 / 9,596 on ml-100k
    assert (len(split.train), len(split.valid), len(split.test)) == (80_808, 9_596, 9_596)
    per_user = np.bincount(ml.interactions["user"], minlength=ml.n_users)
    want = np.array([recbole_counts(int(k), [0.8, 0.1, 0.1]) for k in per_user])
    for j, df in enumerate(parts(split)):
        np.testing.assert_array_equal(np.bincount(df["user"], minlength=ml.n_users), want[:, j])
    # a partition of the rows: every (user, item) exactly once
    keys = pd.concat(parts(split))[["user", "item"]]
    assert len(keys) == 100_000 and not keys.duplicated().any()


@pytest.mark.parametrize("protocol,options", [("random", {}), ("temporal", {}),
                                              ("cold_start", {}), ("intervened", {})])
def test_same_seed_same_bytes(small, protocol, options):
    a = crd.make_split(small, protocol, seed=7, **options)
    b = crd.make_split(small, protocol, seed=7, **options)
    assert split_fingerprint(a) == split_fingerprint(b)
    for x, y in zip(parts(a), parts(b)):
        assert x.equals(y)
    if protocol != "temporal":  # temporal is deterministic by construction
        c = crd.make_split(small, protocol, seed=8, **options)
        assert split_fingerprint(c) != split_fingerprint(a)


def test_temporal_leave_last_out(small):
    df = small.interactions
    split = crd.make_split(small, "temporal")
    tr, va, te = parts(split)
    assert len(va) == len(te) == small.n_users and len(tr) == len(df) - 2 * small.n_users
    # brute force: per user the latest row is the test, the second latest the validation
    ranked = df.assign(r=df.groupby("user")["timestamp"].rank(ascending=False, method="first"))
    want_test = ranked[ranked.r == 1].sort_values("user")[["user", "item"]].to_numpy()
    want_valid = ranked[ranked.r == 2].sort_values("user")[["user", "item"]].to_numpy()
    np.testing.assert_array_equal(te.sort_values("user")[["user", "item"]].to_numpy(), want_test)
    np.testing.assert_array_equal(va.sort_values("user")[["user", "item"]].to_numpy(), want_valid)


def test_temporal_few_interactions_follow_recbole():
    df = pd.DataFrame({"user": np.array([0, 1, 1, 2, 2, 2], np.int64),
                       "item": np.array([0, 0, 1, 0, 1, 2], np.int64),
                       "timestamp": [5.0, 2.0, 1.0, 3.0, 1.0, 2.0]})
    data = crd.InteractionData(df, 3, 3)
    tr, va, te = parts(crd.make_split(data, "temporal"))
    # 1 interaction: train; 2: train + test; 3: train + valid + test (by time)
    assert sorted(map(tuple, tr[["user", "item"]].to_numpy())) == [(0, 0), (1, 1), (2, 1)]
    assert list(map(tuple, va[["user", "item"]].to_numpy())) == [(2, 2)]
    assert sorted(map(tuple, te[["user", "item"]].to_numpy())) == [(1, 0), (2, 0)]
    with pytest.raises(crd.DataValidationError, match="needs a 'timestamp'"):
        crd.make_split(crd.InteractionData(df.drop(columns="timestamp"), 3, 3), "temporal")


def test_intervened_protocol_on_ml100k(ml):
    split = crd.make_split(ml, "intervened", seed=0)
    tr, va, te = parts(split)
    assert len(tr) + len(va) + len(te) == 74_817  # RecBole-Debias' reported total
    assert tr["policy"].value_counts().to_dict() == {"normal": 50_000, "random": 6_205}
    assert (len(va), len(te)) == (6_204, 12_408)
    assert (va["policy"] == "random").all() and (te["policy"] == "random").all()
    inter = pd.concat([tr[tr.policy == "random"], va, te])
    # inverse-popularity resampling flattens item exposure: the most popular item's share of
    # the intervened set is far below its share of the data, rare items are almost all kept
    pop = np.bincount(ml.interactions["item"], minlength=ml.n_items)
    got = np.bincount(inter["item"], minlength=ml.n_items)
    top = int(np.argmax(pop))
    assert got[top] / len(inter) < 0.35 * pop[top] / len(ml)
    # items with enough rows to fill their share come out near-uniform (Poisson-like spread)
    # although their popularity varies widely
    m = pop >= 100
    assert got[m].std() / got[m].mean() < 0.25 < 0.4 < pop[m].std() / pop[m].mean()
    # no row is used twice
    keys = pd.concat([tr, va, te])[["user", "item"]]
    assert not keys.duplicated().any()


def test_cold_start_items_never_in_training(ml):
    split = crd.make_split(ml, "cold_start", seed=1)
    tr, va, te = parts(split)
    train_items = set(tr["item"])
    assert train_items.isdisjoint(va["item"]) and train_items.isdisjoint(te["item"])
    assert set(va["item"]).isdisjoint(te["item"])
    n_items = ml.interactions["item"].nunique()
    assert [len(set(p["item"])) for p in (tr, va, te)] == recbole_counts(n_items,
                                                                         [0.8, 0.1, 0.1])
    assert len(tr) + len(va) + len(te) == 100_000


def test_random_exposure_on_obd():
    data = crd.load("obd", policy="both", campaign="all", quiet=True)
    split = crd.make_split(data, "random_exposure", seed=0)
    tr, va, te = parts(split)
    assert (tr["policy"] == "bts").all() and len(tr) == 10_000
    assert (va["policy"] == "random").all() and (te["policy"] == "random").all()
    assert (len(va), len(te)) == (5_000, 5_000)
    only_random = crd.load("obd", policy="random", quiet=True)
    with pytest.raises(crd.DataValidationError, match="nothing is left to train on"):
        crd.make_split(only_random, "random_exposure")
    some = crd.make_split(only_random, "random_exposure", train_ratio=0.2)
    assert some.sizes() == {"train": 2_000, "valid": 4_000, "test": 4_000}


def test_bad_protocol_and_options(small):
    with pytest.raises(crd.DataValidationError, match="unknown split protocol 'nope'"):
        crd.make_split(small, "nope")
    with pytest.raises(crd.DataValidationError, match="unexpected keyword"):
        crd.make_split(small, "random", rattios=(1, 1, 1))
    with pytest.raises(crd.DataValidationError, match="three non-negative numbers"):
        crd.make_split(small, "random", ratios=(1, -1, 1))
    with pytest.raises(crd.DataValidationError, match="'policy' column"):
        crd.make_split(small, "random_exposure")
