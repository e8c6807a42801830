"""Malformed root-config values: each fails before training with ConfigValidationError
naming the key and the value (not an exception from deep inside int(), range(), Adam or
Lightning, and never a value clamped or read as truthy), and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from causalrec.experiment.api import compose, run
from causalrec.experiment.schema import ConfigValidationError, config_errors, validate_config

# (overrides, key at fault, its value as the override gives it, words of the rule)
CASES = [
    (["seed=abc"], "seed", "abc", "must be an integer in [0, 4294967295]"),
    (["seed=1.5"], "seed", 1.5, "an integer"),
    (["seed=-1"], "seed", -1, "in [0, 4294967295]"),
    (["seed=4294967296"], "seed", 4294967296, "in [0, 4294967295]"),
    (["seed=true"], "seed", True, "an integer"),
    (["trainer.max_epochs=abc"], "trainer.max_epochs", "abc", "an integer >= -1"),
    (["trainer.max_epochs=-2"], "trainer.max_epochs", -2, ">= -1"),
    (["trainer.max_epochs=2.5"], "trainer.max_epochs", 2.5, "an integer"),
    (["+trainer.max_steps=-5"], "trainer.max_steps", -5, ">= -1"),
    (["trainer.check_val_every_n_epoch=0"], "trainer.check_val_every_n_epoch", 0, ">= 1"),
    (["trainer.log_every_n_steps=0"], "trainer.log_every_n_steps", 0, ">= 1"),
    (["trainer.num_sanity_val_steps=-2"], "trainer.num_sanity_val_steps", -2, ">= -1"),
    (["+trainer.fast_dev_run=-1"], "trainer.fast_dev_run", -1, "(or true, false)"),
    (["trainer.deterministic=maybe"], "trainer.deterministic", "maybe", "'warn'"),
    (["trainer.enable_progress_bar=flase"], "trainer.enable_progress_bar", "flase",
     "a string is not a bool"),
    (["+trainer.limit_train_batches=-0.5"], "trainer.limit_train_batches", -0.5, ">= 0"),
    (["dataset.batch_size=0"], "dataset.batch_size", 0, "an integer >= 1 (rows per batch)"),
    (["dataset.batch_size=-5"], "dataset.batch_size", -5, ">= 1"),
    (["dataset.batch_size=abc"], "dataset.batch_size", "abc", "got a string"),
    (["dataset.batch_size=64.0"], "dataset.batch_size", 64.0, "got a float"),
    (["dataset.eval_batch_size=0"], "dataset.eval_batch_size", 0, ">= 1"),
    (["dataset.negatives=-1"], "dataset.negatives", -1,
     "an integer >= 0 (sampled negatives per positive)"),
    (["dataset.negatives=abc"], "dataset.negatives", "abc", "an integer >= 0"),
    (["dataset.source.n_users=0"], "dataset.source.n_users", 0, ">= 1"),
    (["dataset.source.per_user=-3"], "dataset.source.per_user", -3, ">= 1"),
    (["dataset.source.dim=0"], "dataset.source.dim", 0, "embedding size"),
    (["dataset.split.ratios=[0.8,0.1,1.5]"], "dataset.split.ratios", [0.8, 0.1, 1.5],
     "each item a number in [0, 1]"),
    (["model.optimizer.lr=abc"], "model.optimizer.lr", "abc", "a number > 0 (learning rate)"),
    (["model.optimizer.lr=0"], "model.optimizer.lr", 0, "> 0"),
    (["model.optimizer.lr=-0.1"], "model.optimizer.lr", -0.1, "> 0"),
    (["model.optimizer.lr=true"], "model.optimizer.lr", True, "a number"),
    (["model.optimizer.weight_decay=-1"], "model.optimizer.weight_decay", -1, ">= 0"),
    (["model.optimizer.fused=sure"], "model.optimizer.fused", "sure", "true or false"),
    (["model.ks=[0,10]"], "model.ks", [0, 10], "each item an integer >= 1"),
    (["model.ks=[a]"], "model.ks", ["a"], "ranking cut-offs"),
    (["model.early_stopping_patience=-1"], "model.early_stopping_patience", -1, ">= 0"),
    (["model.tail=1.5"], "model.tail", 1.5, "in (0, 1)"),
    (["model.tail=0"], "model.tail", 0, "in (0, 1)"),
    (["model.ips_eta=-1"], "model.ips_eta", -1, ">= 0"),
    (["model.diagnostics=abc"], "model.diagnostics", "abc", "true or false"),
    (["encoder.dim=0"], "encoder.dim", 0, "an integer >= 1 (or null) (embedding size)"),
    (["encoder.dim=-3"], "encoder.dim", -3, ">= 1"),
    (["encoder.dim=abc"], "encoder.dim", "abc", "got a string"),
    (["encoder=minilm", "encoder.trainable_layers=-1"], "encoder.trainable_layers", -1,
     "0: frozen"),
    (["encoder=minilm", "encoder.max_length=0"], "encoder.max_length", 0, ">= 1"),
    (["encoder=minilm", "encoder.normalize=maybe"], "encoder.normalize", "maybe",
     "true or false"),
    (["encoder=minilm", "encoder.batch_size=0"], "encoder.batch_size", 0, ">= 1"),
    (["encoder=minilm", "encoder.trust_remote_code=yes please"], "encoder.trust_remote_code",
     "yes please", "true or false"),
    (["encoder=sequence", "encoder.dropout=1.0"], "encoder.dropout", 1.0, "in [0, 1)"),
    (["encoder=sequence", "encoder.layers=0"], "encoder.layers", 0, ">= 1"),
    (["head=ips", "head.clip=0"], "head.clip", 0, "in (0, 1]"),
    (["head=ips", "head.clip=2"], "head.clip", 2, "propensity floor"),
    (["head=ips", "head.weight_decay=-0.5"], "head.weight_decay", -0.5, ">= 0"),
    (["resume=flase"], "resume", "flase", "did you mean true or false?"),
    (["resume=1"], "resume", 1, "true or false"),
    (["resume='true'"], "resume", "true", "a string is not a bool"),
    (["threads=0"], "threads", 0, "an integer >= 1 (or null)"),
    (["tags=[1,x]"], "tags", [1, "x"], "each item a string"),
]


@pytest.mark.parametrize(("overrides", "key", "value", "words"), CASES,
                         ids=[" ".join(c[0]) for c in CASES])
def test_bad_value_names_key_and_value(overrides, key, value, words):
    cfg = compose([*overrides, "paths.run_dir=/nonexistent/never-made"])
    with pytest.raises(ConfigValidationError) as e:
        validate_config(cfg)
    err = e.value
    assert [k for k, _, _ in err.errors] == [key], str(err)
    assert err.errors[0][1] == value and type(err.errors[0][1]) is type(value)
    line = next(ln for ln in str(err).splitlines() if ln.strip().startswith(f"{key}="))
    assert line.strip().startswith(f"{key}={value!r}: must be"), line
    assert words in line, line


def test_every_bad_key_is_listed_at_once():
    cfg = compose(["seed=abc", "dataset.batch_size=0", "encoder.dim=0", "resume=flase"])
    with pytest.raises(ConfigValidationError, match="4 invalid config values") as e:
        validate_config(cfg)
    assert sorted(k for k, _, _ in e.value.errors) == \
        ["dataset.batch_size", "encoder.dim", "resume", "seed"]


def test_a_plain_interpolation_is_reported_once_at_its_source():
    # dataset.seed and dataset.source.seed are ${seed}: the error names seed only
    errors = config_errors(compose(["seed=abc"]))
    assert [k for k, _, _ in errors] == ["seed"]


@pytest.mark.parametrize("overrides", [
    ["seed=abc"], ["dataset.batch_size=0"], ["dataset.negatives=-1"], ["encoder.dim=0"],
    ["resume=flase"], ["model.optimizer.lr=abc"], ["trainer.max_epochs=abc"],
], ids=lambda o: o[0])
def test_run_fails_before_anything_is_built_or_written(tmp_path, overrides):
    out = tmp_path / "runs" / "r"
    with pytest.raises(ConfigValidationError) as e:
        run([*overrides, "logger=none"], output_dir=out)
    assert overrides[0].split("=")[0] in str(e.value)
    assert not (tmp_path / "runs").exists(), list(tmp_path.rglob("*"))


GROUPS = {g: sorted(p.stem for p in (Path(__file__).parents[2] / "conf" / g).glob("*.yaml"))
          for g in ("dataset", "encoder", "head", "trainer", "logger", "experiment", "graph")}


@pytest.mark.parametrize("override", [f"{g}={o}" for g, opts in GROUPS.items() for o in opts])
def test_every_shipped_config_passes(override):
    assert config_errors(compose([override, "paths.run_dir=/tmp/x"])) == []
