"""Heads declare the dataset options they need; ``auto`` takes them, a contradiction is an
error naming the key (a head config never rewrites the dataset group)."""

from __future__ import annotations

import pytest


def _cfg(*overrides):
    from causalrec.experiment.api import compose

    return compose(["paths.output_dir=/tmp/x", *overrides])


@pytest.mark.parametrize("head, dataset, want", [
    ("bpr", "generated", {"sampling": "pairwise", "negatives": 1}),
    ("naive", "generated", {"sampling": "pointwise", "negatives": 1}),
    ("naive", "ml100k", {"sampling": "pairwise"}),          # the dataset's explicit choice
    ("t_learner", "synthetic", {"sampling": "pointwise", "negatives": 0, "train_rows": "all"}),
    ("ips", "synthetic", {"sampling": "pointwise", "train_rows": "auto"}),
])
def test_auto_takes_the_heads_needs(head, dataset, want):
    from causalrec.models.build import resolve_data_needs

    cfg = resolve_data_needs(_cfg(f"head={head}", f"dataset={dataset}"))
    for key, value in want.items():
        assert cfg.dataset[key] == value, key


@pytest.mark.parametrize("overrides, key", [
    (["head=bpr", "dataset.sampling=pointwise"], "dataset.sampling"),
    (["head=t_learner", "dataset=synthetic", "dataset.train_rows=exposed"], "dataset.train_rows"),
    (["head=tarnet", "dataset=synthetic", "dataset.negatives=2"], "dataset.negatives"),
    (["head=dice", "dataset=obd", "dataset.sampling=pointwise"], "dataset.sampling"),
])
def test_a_contradiction_names_the_key(overrides, key):
    from causalrec.models.build import resolve_data_needs

    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        resolve_data_needs(_cfg(*overrides))


def test_head_configs_do_not_touch_the_dataset_group():
    from pathlib import Path

    for f in (Path(__file__).resolve().parents[2] / "conf" / "head").glob("*.yaml"):
        text = f.read_text()
        assert "@package _global_" not in text and "\ndataset:" not in text, f.name
