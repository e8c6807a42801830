"""CausalRecDataModule: BPR/pointwise batches, samplers, passthrough columns, eval masks."""

from __future__ import annotations

import numpy as np
import pytest

import causalrec.data as crd
from causalrec.data import CausalRecDataModule


@pytest.fixture(scope="module")
def small():
    return crd.generate_interactions(n_users=50, n_items=60, per_user=10, seed=1)


def epoch(dm):
    batches = list(dm.train_dataloader())
    return {k: np.concatenate([b[k].numpy() for b in batches]) for k in batches[0]}


def test_pairwise_negatives_avoid_training_positives(small):
    dm = CausalRecDataModule(small, sampling="pairwise", batch_size=64, seed=0)
    dm.setup()
    e = epoch(dm)
    assert set(e) == {"user", "item", "neg_item"}
    tr = dm.train_data.interactions
    pos = set(zip(tr["user"], tr["item"]))
    assert len(e["user"]) == len(tr)
    assert sorted(zip(e["user"], e["item"])) == sorted(pos)  # each positive once per epoch
    assert not any((u, j) in pos for u, j in zip(e["user"], e["neg_item"]))
    again = CausalRecDataModule(small, sampling="pairwise", batch_size=64, seed=0)
    again.setup()
    np.testing.assert_array_equal(epoch(again)["neg_item"], e["neg_item"])  # seeded
    assert not np.array_equal(epoch(dm)["neg_item"], e["neg_item"])  # fresh per epoch


def test_popularity_sampler_follows_training_counts():
    data = crd.generate_interactions(n_users=400, n_items=50, per_user=5, seed=2,
                                     popularity_skew=2.0)
    dm = CausalRecDataModule(data, sampling="pointwise", negatives=20,
                             negative_sampler="popularity", batch_size=10_000, seed=0)
    dm.setup()
    e = epoch(dm)
    neg = e["item"][e["label"] == 0]
    pop = dm.train_data.item_popularity()
    freq = np.bincount(neg, minlength=50) / len(neg)
    # rejection of each user's positives thins popular items a little; the ranking stays
    assert np.corrcoef(freq, pop)[0, 1] > 0.9
    assert (e["label"] == 1).sum() * 20 == (e["label"] == 0).sum()
    uni = CausalRecDataModule(data, sampling="pointwise", negatives=20, batch_size=10_000)
    uni.setup()
    f2 = np.bincount(epoch(uni)["item"][epoch(uni)["label"] == 0], minlength=50)
    assert np.corrcoef(f2, pop)[0, 1] < 0.5


def test_obd_batches_carry_logged_columns():
    data = crd.load("obd", policy="both", quiet=True)
    dm = CausalRecDataModule(data, split={"protocol": "random_exposure"}, sampling="pointwise",
                             negatives=0, batch_size=4096)
    dm.setup()
    e = epoch(dm)
    tr = dm.train_data.interactions
    assert set(e) == {"user", "item", "label", "propensity", "exposure"}
    assert len(e["label"]) == len(tr) == 10_000
    np.testing.assert_allclose(np.sort(e["propensity"]), np.sort(tr["propensity"]), rtol=1e-6)
    assert e["label"].sum() == tr["label"].sum() and (e["exposure"] == 1).all()
    pair = CausalRecDataModule(data, split={"protocol": "random_exposure"}, sampling="pairwise")
    pair.setup()
    assert {"propensity", "exposure"} <= set(next(iter(pair.train_dataloader())))


def test_sampled_negative_exposure_marks_logged_pairs():
    import pandas as pd

    df = pd.DataFrame({"user": np.zeros(3, np.int64), "item": np.array([0, 1, 2], np.int64),
                       "label": np.array([1, 0, 0], np.float32),
                       "exposure": np.ones(3)})
    data = crd.InteractionData(df, 1, 6)
    dm = CausalRecDataModule(data, split={"protocol": "random", "ratios": (1, 0, 0)},
                             negatives=200, batch_size=1000)
    dm.setup()
    e = epoch(dm)
    neg = e["label"] == 0
    # a sampled negative was "exposed" iff the pair is in the logs (items 1, 2: label 0)
    np.testing.assert_array_equal(e["exposure"][neg], np.isin(e["item"][neg], [1, 2]))
    assert 0 < e["exposure"][neg].mean() < 1


def test_eval_masks_exclude_seen_items(small):
    dm = CausalRecDataModule(small, eval_batch_size=16)
    dm.setup()
    tr, va, te = (dm.split.train.csr().toarray() > 0, dm.split.valid.csr().toarray() > 0,
                  dm.split.test.csr().toarray() > 0)
    for loader, target, exclude in ((dm.val_dataloader(), va, tr),
                                    (dm.test_dataloader(), te, tr | va)):
        users = []
        for b in loader:
            u = b["user"].numpy()
            users.extend(u)
            np.testing.assert_array_equal(b["target"].numpy(), target[u])
            np.testing.assert_array_equal(b["exclude"].numpy(), exclude[u])
        assert users == list(np.flatnonzero(target.any(1)))


def test_text_views_attach_to_train_data(small):
    dm = CausalRecDataModule(small, text={"item": "item {item_id}",
                                          "user": "user {user_id}: {history}",
                                          "history_field": "item_id", "version": "t1"})
    tr = dm.train_data
    assert tr.item_text[3] == "item i3" and len(tr.user_text) == small.n_users
    assert tr.meta["text_template_version"].startswith("t1-")
    held = set(zip(dm.split.test.interactions["user"], dm.split.test.interactions["item"]))
    for u, i in held:
        assert f"i{i}" not in tr.user_text[u].split(": ")[1].split("; ")


def test_hydra_configs_instantiate():
    from causalrec.experiment.api import compose
    from causalrec.models.build import build_datamodule

    for name, protocol, n_train in (("ml100k", "random", 80_808),
                                    ("ml100k_intervened", "intervened", 56_205),
                                    ("ml100k_coldstart", "cold_start", None),
                                    ("obd", "random_exposure", 10_000)):
        cfg = compose([f"dataset={name}"])
        dm = build_datamodule(cfg, seed=0)  # dataset "auto" options resolved for the head
        dm.setup()
        assert dm.split.protocol == protocol
        if n_train is not None:
            assert len(dm.train_data) == n_train
        assert dm.train_data.user_text is not None and dm.train_data.item_text is not None


def test_negatives_are_exact_even_when_rejection_struggles():
    from causalrec.data.datamodule import sample_negatives

    rng = np.random.default_rng(0)
    n_items = 10
    # user 0 holds items 0..8; popularity puts 99.9% of the mass on them
    keys = np.arange(9, dtype=np.int64)
    probs = np.r_[np.full(9, 0.999 / 9), 0.001]
    neg = sample_negatives(rng, np.zeros(500, np.int64), n_items, keys, probs, max_rounds=2)
    assert (neg == 9).all()
    with pytest.raises(crd.DataValidationError, match="every item"):
        sample_negatives(rng, np.zeros(3, np.int64), 9, keys, max_rounds=1)


def test_train_rows_exposed_keeps_only_observed_outcomes():
    from causalrec.data import CausalRecDataModule
    from causalrec.sim import load_synthetic

    data = load_synthetic(n_users=120, n_items=40, per_user=10, seed=3)
    split = {"protocol": "random_exposure", "randomized_policy": "random", "valid_ratio": 0.5}

    def rows(mode):
        dm = CausalRecDataModule(data, split=split, sampling="pointwise", negatives=0,
                                 train_rows=mode, seed=0)
        dm.setup()
        return dm._epoch_arrays(0)

    exposed, every = rows("exposed"), rows("all")
    assert (exposed["exposure"] == 1).all()
    assert (every["exposure"] == 0).any()
    tr = every["exposure"]
    assert len(exposed["user"]) == int((tr == 1).sum())
    with pytest.raises(ValueError, match="train_rows"):
        CausalRecDataModule(data, split=split, train_rows="observed")
