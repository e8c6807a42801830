"""The synthetic datasets through the registry and the Hydra dataset configs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate


def test_registry_loads_synthetic_with_truth():
    from causalrec.data import load
    from causalrec.sim import simulate

    options = dict(graph="intent_confounding", n_users=200, n_items=50, per_user=5, seed=1)
    data = load("synthetic", **options)
    truth = simulate(**options).truth
    df = data.interactions
    assert set(df["policy"].unique()) == {"logging", "random"}
    logs = df[df["policy"] == "logging"]
    # per-row truth travels as columns, world-level truth as JSON in meta
    assert np.allclose(logs["propensity"].to_numpy(), truth.propensity)
    assert np.allclose(logs["true_mu1"] - logs["true_mu0"], truth.mu1 - truth.mu0, atol=1e-6)
    assert truth.ate == pytest.approx(float(np.mean(truth.mu1 - truth.mu0)))
    meta = json.loads(json.dumps(data.meta))
    assert meta["truth"]["ate"] == truth.ate and meta["truth"]["naive"] == truth.naive
    assert meta["graph"]["name"] == "intent_confounding" and meta["treatment"] == "exposure"


@pytest.mark.parametrize("name", ["synthetic", "synthetic_mediation", "synthetic_funnel"])
def test_dataset_config_builds_a_datamodule_with_randomized_test(name):
    with initialize_config_module("causalrec.conf", version_base="1.3"):
        cfg = compose("config", overrides=[f"dataset={name}", "dataset.source.n_users=300",
                                           "dataset.source.n_items=80"])
    dm = instantiate(cfg.dataset)
    dm.setup()
    split = dm.split
    assert (split.train.interactions["policy"] == "logging").all()
    for part in (split.valid, split.test):
        assert (part.interactions["policy"] == "random").all()
        assert np.allclose(part.interactions["propensity"], 0.5)
    batch = next(iter(dm.train_dataloader()))
    assert {"user", "item", "label", "propensity", "exposure"} <= set(batch)
    assert "truth" in split.train.meta and split.train.user_text is not None


def test_funnel_config_logs_the_whole_funnel():
    with initialize_config_module("causalrec.conf", version_base="1.3"):
        cfg = compose("config", overrides=["dataset=synthetic_funnel",
                                           "dataset.source.n_users=400",
                                           "dataset.source.n_items=80"])
    data = instantiate(cfg.dataset.source)
    df = data.interactions
    assert {"exposure", "click", "purchase", "rating", "popularity", "label"} <= set(df.columns)
    assert "intent" not in df.columns  # latent
    assert set(df["rating"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    med = data.meta["truth"]["mediation"]["purchase"]
    assert med["mediators"] == ["click"]
    assert med["natural_direct"] > 0 and med["natural_indirect"] > 0
    # the mediated path: a click raises the purchase rate
    assert df[df.click == 1].purchase.mean() > 2 * df[df.click == 0].purchase.mean()
