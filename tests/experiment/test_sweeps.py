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
        assert row["test/ndcg@10 se"] == pytest.approx(vals.std(ddof=1) / 2 ** 0.5)
    assert (tmp_path / "cmp" / "summary.png").read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "cmp" / "summary.md").read_text()
    assert "±" in md and "| bce |" in md and "95% t confidence interval" in md
    # a clear error for a metric no run recorded, and nothing written
    assert main([str(sweep), "--metrics", "test/nope@3", "--out", str(tmp_path / "c2")]) == 2
    assert not (tmp_path / "c2").exists()


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


SWEEP_GRID = {"head.loss_type": ["bce", "mse"], "seed": [0, 1, 2]}
SWEEP_FIXED = ["logger=none", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
               "threads=1", "dataset.source.n_users=50", "dataset.source.n_items=60",
               "dataset.source.per_user=8"]


def test_notebook_sweep_and_command_line_sweep_give_identical_comparisons(tmp_path):
    from causalrec.experiment.api import sweep
    from causalrec.experiment.compare import compare

    cli = _cli(tmp_path, "-m", "head.loss_type=bce,mse", "seed=0,1,2", *SWEEP_FIXED)
    assert cli.returncode == 0, cli.stderr[-2000:]
    # every Lightning log line is printed once (Lightning's handler, not Hydra's as well)
    assert (cli.stdout + cli.stderr).count("`Trainer.fit` stopped") == 6
    cli_dir = next((tmp_path / "multirun").iterdir())
    nb_dir = sweep(SWEEP_GRID, SWEEP_FIXED, output_dir=tmp_path / "notebook")
    assert sorted(p.name for p in nb_dir.iterdir()) == [str(i) for i in range(6)]
    for num in range(6):  # the same recorded overrides, job by job
        a = json.loads((cli_dir / str(num) / "metrics.json").read_text())
        b = json.loads((nb_dir / str(num) / "metrics.json").read_text())
        assert sorted(a["overrides"]) == sorted(b["overrides"])
        assert "head.loss_type=" + SWEEP_GRID["head.loss_type"][num // 3] in b["overrides"]
    results = [compare([d], metrics=["test/ndcg@10", "test/recall@10"], baseline="bce",
                       progress=False) for d in (cli_dir, nb_dir)]
    import pandas as pd

    pd.testing.assert_frame_equal(results[0].summary, results[1].summary)
    for m in ("test/ndcg@10", "test/recall@10"):
        pd.testing.assert_frame_equal(results[0].paired[m], results[1].paired[m])
    assert results[0].markdown == results[1].markdown
    assert results[0].group_by == ["head.loss_type"] and results[0].paired["test/ndcg@10"][
        "n"].tolist() == [3]


def test_wandb_config_matches_config_yaml_and_compare_logs_beside_the_sweep(
        tmp_path, monkeypatch):
    from omegaconf import OmegaConf

    from causalrec.experiment.api import compose, sweep
    from causalrec.experiment.compare import main
    from causalrec.experiment.loggers import build_loggers

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.chdir(tmp_path)
    # the config W&B receives is the resolved config that config.yaml records (+ its hash)
    cfg = compose(["logger=wandb", f"paths.run_dir={tmp_path / 'solo'}"])
    loggers = build_loggers(cfg)
    import wandb

    try:
        logged = dict(loggers[0].experiment.config.as_dict())
    finally:
        wandb.finish()
    assert logged.pop("config_hash") and logged == OmegaConf.to_container(cfg, resolve=True)
    assert cfg.logger.wandb.name == "solo"
    # a sweep's runs record the group and name W&B shows in their config.yaml
    fixed = [o for o in SWEEP_FIXED if not o.startswith("logger=")] + ["logger=wandb"]
    sweep_dir = sweep({"head.loss_type": ["bce", "mse"]}, [*fixed, "seed=0"],
                      output_dir=tmp_path / "sw")
    for num in ("0", "1"):
        saved = OmegaConf.load(sweep_dir / num / "config.yaml")
        assert saved.logger.wandb.group == "sw" and saved.logger.wandb.name == num
        run = next((sweep_dir / num / "wandb").glob("offline-run-*"))
        log = b"".join(p.read_bytes() for p in run.glob("run-*.wandb"))
        chash = json.loads((sweep_dir / num / "metrics.json").read_text())["config_hash"]
        assert b"sw" in log and chash.encode() in log, "W&B shows the record's config hash"
    assert main([str(sweep_dir), "--baseline", "bce", "--wandb"]) == 0
    wandb.teardown()  # the W&B service writes asynchronously: wait for it, as the CLI's exit does
    runs = list((sweep_dir / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, "the comparison's W&B run lives beside the sweep"
    assert not (tmp_path / "wandb").exists(), "nothing written into ./wandb of the CWD"
    log = b"".join(p.read_bytes() for p in runs[0].glob("run-*.wandb"))
    assert b"compare" in log and b"paired/test/ndcg@10" in log and b"sw" in log
    assert b"plots/summary" in log and b"plots/paired" in log


def test_text_encoder_respects_the_trainers_progress_bar_setting(capfd):
    from causalrec.encoders.transformer import TextModel
    from causalrec.experiment.api import compose

    for enc in ("minilm", "hybrid"):
        for on in (False, True):
            cfg = compose([f"encoder={enc}", f"trainer.enable_progress_bar={on}",
                           "paths.run_dir=/tmp/x"])
            node = cfg.encoder.text if enc == "hybrid" else cfg.encoder
            assert node.progress is on
    texts = [f"text number {i}" for i in range(12)]
    capfd.readouterr()
    quiet = TextModel("minilm", device="cpu", batch_size=4, progress=False).load()
    quiet.embed(texts, desc="encoding quietly")
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "encoding quietly" not in err
    loud = TextModel("minilm", device="cpu", batch_size=4, progress=True).load()
    loud.embed(texts, desc="encoding loudly")
    assert "encoding loudly" in capfd.readouterr().err
    from transformers.utils import logging as hf_logging

    assert hf_logging.is_progress_bar_enabled(), "transformers' bars are restored afterwards"


def test_make_lab_allows_root_only_for_root():
    import shutil

    root = Path(__file__).resolve().parents[2]
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-C", str(root), "lab"], capture_output=True,
                         text=True, timeout=60)
    line = next(ln for ln in out.stdout.splitlines() if "jupyter lab" in ln)
    assert ("--allow-root" in line) == (os.geteuid() == 0)
    if os.geteuid() == 0 and shutil.which("runuser"):
        import tempfile

        # the checkout may sit in a folder only root can read (mktemp -d): give `nobody` a
        # readable copy of what `make -n lab` reads
        readable = Path(tempfile.mkdtemp(prefix="causalrec-make-", dir="/tmp"))
        try:
            readable.chmod(0o755)
            for name in ("Makefile", "pyproject.toml"):
                shutil.copy(root / name, readable / name)
                (readable / name).chmod(0o644)
            user = subprocess.run(["runuser", "-u", "nobody", "--", "make", "-n", "-C",
                                   str(readable), "lab"], capture_output=True, text=True,
                                  timeout=60)
        finally:
            shutil.rmtree(readable, ignore_errors=True)
        line = next(ln for ln in user.stdout.splitlines() if "jupyter lab" in ln)
        assert "--allow-root" not in line
