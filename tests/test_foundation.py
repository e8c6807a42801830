"""The foundation: configs compose, training runs end to end, records are written, the
package is lazy and installable, and environment.yml matches pyproject.toml."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("dataset", "encoder", "head", "graph", "trainer", "logger", "paths")


def _compose(overrides=()):
    from causalrec.experiment.api import compose

    return compose(list(overrides))


def test_every_group_has_a_default_and_root_composes():
    cfg = _compose()
    for group in GROUPS:
        assert group in cfg, f"config group {group!r} has no default"
    assert cfg.seed == 0 and cfg.task == "train"
    assert cfg.dataset._target_.endswith("CausalRecDataModule")


def _group_options(group: str) -> list[str]:
    folder = resources.files("causalrec.conf") / group
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@pytest.mark.parametrize("group", [*GROUPS, "experiment"])
def test_every_option_of_every_group_composes(group):
    options = _group_options(group)
    assert options, f"conf/{group}/ is empty"
    for opt in options:
        cfg = _compose([f"{group}={opt}"])
        if group == "experiment":
            continue
        assert group in cfg


def test_unknown_keys_are_errors():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="not_a_key"):
        _compose(["not_a_key=1"])
    with pytest.raises(ConfigCompositionException, match="max_epochz"):
        _compose(["trainer.max_epochz=3"])
    with pytest.raises(ConfigCompositionException):
        _compose(["head=no_such_head"])


def test_fast_dev_run_trains_validates_and_tests(tmp_path):
    from causalrec.experiment.api import run

    metrics = run(["logger=none", "+trainer.fast_dev_run=true", "dataset.source.n_users=50",
                   "dataset.source.n_items=60", "dataset.source.per_user=10"],
                  output_dir=tmp_path / "run")
    assert "test/ndcg@10" in metrics and 0.0 <= metrics["test/ndcg@10"] <= 1.0
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["metrics"]["test/ndcg@10"] == pytest.approx(metrics["test/ndcg@10"])
    assert record["seed"] == 0 and len(record["data_fingerprint"]) == 64
    assert record["versions"]["torch"].startswith("2.")
    assert (tmp_path / "run" / "config.yaml").exists()


def test_training_learns_something_beyond_random(tmp_path):
    """Few epochs on the generated set must beat a random ranking by a wide margin."""
    from causalrec.experiment.api import run

    m = run(["logger=none", "trainer.max_epochs=15", "trainer.enable_progress_bar=false",
             "model.optimizer.lr=0.01"], output_dir=tmp_path / "run")
    # random ranking of 400 items with ~2 test items/user among ~380 candidates: NDCG@10 ~ 0.015
    assert m["test/ndcg@10"] > 0.06, m


def test_cli_writes_records_and_never_overwrites(tmp_path):
    env = {**os.environ, "CAUSALREC_OUTPUT": str(tmp_path), "WANDB_MODE": "offline"}
    exe = Path(sys.executable).with_name("causalrec-train")
    common = ["logger=csv", "trainer.max_epochs=2", "trainer.enable_progress_bar=false",
              "dataset.source.n_users=60", "dataset.source.n_items=80",
              "dataset.source.per_user=10"]
    for seed in (0, 1):
        out = subprocess.run([str(exe), f"seed={seed}", *common], env=env, capture_output=True,
                             text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        assert "test/ndcg@10" in out.stdout
    records = sorted((tmp_path / "runs").glob("*/metrics.json"))
    assert len(records) == 2, records
    seeds = sorted(json.loads(r.read_text())["seed"] for r in records)
    assert seeds == [0, 1]
    for r in records:
        assert (r.parent / "config.yaml").exists()
        assert list(r.parent.glob("csv/**/metrics.csv")), "CSV logger wrote nothing"
        assert not list(r.parent.glob(".*.tmp")), "a temporary file was left behind"


def test_wandb_offline_run_is_written(tmp_path):
    from causalrec.experiment.api import run

    run(["logger=wandb", "+trainer.fast_dev_run=true", "dataset.source.n_users=40",
         "dataset.source.n_items=50", "dataset.source.per_user=10"], output_dir=tmp_path / "r")
    offline = list((tmp_path / "r" / "wandb").glob("offline-run-*"))
    assert offline, "no offline W&B run directory"
    # the run's resolved config (with its hash) is in the offline run's log, ready for sync
    chash = json.loads((tmp_path / "r" / "metrics.json").read_text())["config_hash"]
    log = b"".join(p.read_bytes() for p in offline[0].glob("run-*.wandb"))
    assert chash.encode() in log and b"PointwiseHead" in log


def test_import_is_lazy():
    code = ("import sys, causalrec, causalrec.data, causalrec.encoders, causalrec.heads, "
            "causalrec.graphs, causalrec.evaluation, causalrec.experiment, causalrec.models; "
            "print(causalrec.__version__); "
            "print([m for m in ('torch','transformers','pgmpy','wandb','lightning') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    version, loaded = out.stdout.strip().splitlines()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version)
    assert loaded == "[]", f"import causalrec pulled in heavy modules: {loaded}"


def _req_names(reqs):
    return sorted(re.split(r"[<>=!~ \[]", r.strip(), maxsplit=1)[0].lower() for r in reqs)


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = [p for p in pip if not p.startswith("-")]
    assert _req_names(pins) == _req_names(wanted)
    # and the same version floors
    assert sorted(p.replace(" ", "") for p in pins) == sorted(w.replace(" ", "") for w in wanted)
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"])


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "causalrec").rglob("__init__.py")}
    assert found <= listed, f"packages missing from pyproject: {sorted(found - listed)}"


def test_configs_resolve_from_a_built_wheel(tmp_path):
    """Build a real (non-editable) wheel and compose the config from it alone."""
    import shutil

    # build from a copy of the tracked tree, so no stale build/ folder can leak into the wheel
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    src = tmp_path / "src"
    for f in files:
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path / "dist"), str(src)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("causalrec-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for group in GROUPS:
        assert any(n.startswith(f"causalrec/conf/{group}/") for n in names), group
    assert "causalrec/conf/config.yaml" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("import causalrec.conf, sys; assert 'site' in causalrec.conf.__file__, causalrec.conf.__file__;"
            "from causalrec.experiment.api import compose; c = compose(['head=naive']);"
            "print(c.head._target_)")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(site)}, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "PointwiseHead" in res.stdout


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run([str(ruff), "check", "causalrec", "tests", "scripts", "notebooks"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
