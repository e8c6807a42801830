"""Fixtures for the explanation tests: small simulated worlds (true topics known) and BPR /
text recommenders trained on them with the training helper of the Recommender tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _recommend_helpers():
    path = Path(__file__).parents[1] / "recommend" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_recommend_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CAUSALREC_DATA", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture(scope="session")
def world():
    from causalrec.sim import simulate

    return simulate("intent_confounding", n_users=60, n_items=40, per_user=14, seed=0,
                    randomized_users=0.0)


@pytest.fixture(scope="session")
def bpr(world):
    """(recommender, train_data) of a small BPR model on the simulated logs."""
    from causalrec.recommend import Recommender

    helpers = _recommend_helpers()
    _, dm, module = helpers.train_module(["encoder=id", "encoder.dim=16"], "bpr", epochs=8,
                                         data=world.data)
    return Recommender.from_module(module, dm.train_data), dm.train_data
