"""Sweeps, run records, resume, failure handling, causalrec-compare and W&B fallbacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SMALL = ["trainer.max_epochs=2", "trainer.enable_progress_bar=false",
         "dataset.source.n_users=60", "dataset.source.n_items=80", "dataset.source.per_user=10"]


def _cli(tmp_path, *args, timeout=600):
    env = {**os.environ, "CAUSALREC_OUTPUT": str(tmp_path), "WANDB_MODE": "offline"}
    exe = Path(sys.executable).with_name("causalrec-train")
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_multirun_records_failures_and_finishes_the_others(tmp_path):
    out = _cli(tmp_path, "-m", "logger=none", "head.loss_type=bce,oops,mse", *SMALL)
    assert out.returncode == 1, "a sweep with a failed job must exit non-zero"
    sweep = next((tmp_path / "multirun").iterdir())
    records = sorted(p.parent.name for p in sweep.rglob("metrics.json"))
    errors = sorted(p.parent.name for p in sweep.rglob("error.json"))
    assert records == ["0", "2"] and errors == ["1"]
    err = json.loads((sweep / "1" / "error.json").read_text())
    assert "oops" in err["error"] and "Traceback" in err["traceback"]
    assert "head.loss_type=oops" in err["overrides"]


def test_resume_runs_only_missing_jobs(tmp_path):
    first = _cli(tmp_path, "-m", "logger=none", "seed=0", *SMALL)
    assert first.returncode == 0, first.stderr[-2000:]
    # a re-run of a larger sweep with resume=true must only train the new job
    second = _cli(tmp_path, "-m", "logger=none", "seed=0,1", "resume=true", *SMALL)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "already done" in second.stderr + second.stdout
    records = list((tmp_path / "multirun").rglob("metrics.json"))
    assert sorted(json.loads(r.read_text())["seed"] for r in records) == [0, 1]


def test_config_hash_ignores_paths_and_loggers_but_not_hyperparameters():
    from causalrec.experiment.api import compose
    from causalrec.experiment.record import config_hash

    base = config_hash(compose(["paths.run_dir=/a"]))
    assert config_hash(compose(["paths.run_dir=/b", "logger=csv", "resume=true"])) == base
    assert config_hash(compose(["paths.run_dir=/a", "seed=1"])) != base
    assert config_hash(compose(["paths.run_dir=/a", "model.optimizer.lr=0.5"])) != base


def test_compare_groups_over_seeds_and_writes_outputs(tmp_path):
    from causalrec.experiment.compare import main

    out = _cli(tmp_path, "-m", "logger=none", "head.loss_type=bce,mse", "seed=0,1", *SMALL)
    assert out.returncode == 0, out.stderr[-2000:]
    sweep = next((tmp_path / "multirun").iterdir())
    assert main([str(sweep), "--out", str(tmp_path / "cmp")]) == 0
    import pandas as pd

    summary = pd.read_csv(tmp_path / "cmp" / "summary.csv")
    assert list(summary["head.loss_type"]) == ["bce", "mse"]
    assert list(summary["runs"]) == [2, 2]
    runs = pd.read_csv(tmp_path / "cmp" / "runs.csv")
    for loss in ("bce", "mse"):
        vals = runs.loc[runs["head.loss_type"] == loss, "test/ndcg@10"]
        row = summary[summary["head.loss_type"] == loss].iloc[0]
        assert row["test/ndcg@10 mean"] == pytest.approx(vals.mean())
        assert row["test/ndcg@10 std"] == pytest.approx(vals.std(ddof=1))
    assert (tmp_path / "cmp" / "summary.png").read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "cmp" / "summary.md").read_text()
    assert "±" in md and "| bce |" in md
    # a clear error for a metric no run recorded
    assert main([str(sweep), "--metrics", "test/nope@3", "--out", str(tmp_path / "c2")]) == 2


def test_training_completes_when_wandb_cannot_start(tmp_path, monkeypatch):
    from causalrec.experiment.api import run

    monkeypatch.setenv("WANDB_MODE", "offline")
    # an unwritable W&B directory makes wandb.init fail
    monkeypatch.setenv("WANDB_DIR", "/proc/forbidden")
    monkeypatch.setattr("wandb.init", _raise_init)
    with pytest.warns(RuntimeWarning, match="wandb"):
        m = run(["logger=many", *SMALL], output_dir=tmp_path / "r")
    assert "test/ndcg@10" in m
    assert (tmp_path / "r" / "metrics.json").exists()
    assert list((tmp_path / "r").glob("csv/**/metrics.csv")), "CSV record must be kept"


def _raise_init(*args, **kwargs):
    raise RuntimeError("simulated: W&B could not start")
