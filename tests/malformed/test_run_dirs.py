"""Run directories and the files in them: a refused run changes nothing in a finished run's
directory (Hydra's .hydra/ files and log included, checked with the real causalrec-train
entry point), and every writer leaves the old file intact and no partial file behind when
the disk fills up or the user presses Ctrl-C mid-write."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalrec import atomic
from causalrec.atomic import DiskFullError, mount_point
from causalrec.experiment import record

SMALL = ["logger=none", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
         "dataset.source.n_users=40", "dataset.source.n_items=50", "dataset.source.per_user=10"]


def cli(out_root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CAUSALREC_OUTPUT": str(out_root), "WANDB_MODE": "offline"}
    exe = Path(sys.executable).with_name("causalrec-train")
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A run finished by the real entry point: metrics.json, .hydra/, train.log, checkpoint."""
    root = tmp_path_factory.mktemp("out")
    run_dir = root / "runs" / "done"
    out = cli(root, f"hydra.run.dir={run_dir}", *SMALL)
    assert out.returncode == 0, out.stderr[-3000:]
    for name in ("metrics.json", ".hydra/config.yaml", ".hydra/hydra.yaml",
                 ".hydra/overrides.yaml", "train.log", "checkpoints/best.ckpt"):
        assert (run_dir / name).is_file(), name
    # .hydra/ holds what Hydra would have written: the unresolved task config and overrides
    cfg = (run_dir / ".hydra" / "config.yaml").read_text()
    assert "seed: 0" in cfg and "${seed}" in cfg
    assert "dataset.source.n_users=40" in (run_dir / ".hydra" / "overrides.yaml").read_text()
    return run_dir


# (second invocation against the finished directory, expected exit code, words in the output)
REFUSED = [
    (["seed=1"], 1, "already holds a finished run"),
    (["seed=1", "resume=true"], 1, "already holds a finished run"),
    (["seed=abc"], 1, "seed='abc': must be an integer"),
    (["dataset.batch_size=0", "resume=true"], 1, "dataset.batch_size=0: must be"),
    (["resume=true"], 0, "already done"),  # same config: skipped, nothing rewritten
]


@pytest.mark.parametrize(("args", "rc", "words"), REFUSED, ids=lambda a: str(a))
def test_refused_run_leaves_the_finished_directory_untouched(finished_run, state, args, rc,
                                                             words):
    before = state(finished_run.parent)
    out = cli(finished_run.parents[1], f"hydra.run.dir={finished_run}", *SMALL, *args)
    assert out.returncode == rc, out.stderr[-3000:]
    assert words in out.stdout + out.stderr, out.stderr[-3000:]
    assert state(finished_run.parent) == before  # bytes, sizes and mtimes


def test_refused_sweep_job_leaves_the_finished_directory_untouched(finished_run, state):
    before = state(finished_run.parent)
    out = cli(finished_run.parents[1], "-m", f"hydra.sweep.dir={finished_run.parent}",
              f"hydra.sweep.subdir={finished_run.name}", *SMALL, "seed=1")
    assert out.returncode == 1 and "already holds a finished run" in out.stderr, \
        out.stderr[-3000:]
    now = state(finished_run.parent)
    now.pop("multirun.yaml", None)  # the sweeper's own file, beside the runs
    assert now == before


@pytest.mark.parametrize("resume", [False, True], ids=["new-sweep", "resume"])
def test_a_sweep_directory_that_holds_a_sweep(finished_run, state, tmp_path, resume):
    """Without resume=true the sweep is refused before Hydra writes anything (its
    multirun.yaml included); with it, finished jobs are skipped and left as they were."""
    import shutil

    sweep = tmp_path / "sweep"
    shutil.copytree(finished_run, sweep / "0")  # job 0 of an earlier sweep, finished
    (sweep / "multirun.yaml").write_text("earlier: sweep\n")
    before = state(sweep)
    args = ["resume=true"] if resume else []
    out = cli(tmp_path, "-m", f"hydra.sweep.dir={sweep}", *SMALL, *args)
    if not resume:
        assert out.returncode == 1 and "already holds a sweep (multirun.yaml)" in out.stderr
        assert state(sweep) == before
    else:
        assert out.returncode == 0 and "already done" in out.stdout + out.stderr, out.stderr
        now = state(sweep)
        assert {k: v for k, v in now.items() if k.startswith("0/")} == \
            {k: v for k, v in before.items() if k.startswith("0/")}


def test_config_error_in_a_new_directory_writes_only_the_error_record(tmp_path):
    run_dir = tmp_path / "runs" / "bad"
    out = cli(tmp_path, f"hydra.run.dir={run_dir}", *SMALL, "encoder.dim=0")
    assert out.returncode == 1 and "encoder.dim=0: must be an integer >= 1" in out.stderr
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.yaml", "error.json"]
    err = json.loads((run_dir / "error.json").read_text())
    assert err["error"].startswith("ConfigValidationError") and "encoder.dim=0" in err["error"]


# ---------------------------------------------------------------- writers on a full disk
@pytest.fixture
def fail_writes(monkeypatch):
    """``fail_writes(root, exc)``: every ``os.write`` to a file under ``root`` writes half its
    bytes, then raises ``exc`` (a full disk, a quota, Ctrl-C); ``os.fsync`` can fail too."""
    real_write = os.write

    def install(root: Path, exc: BaseException, where: str = "write"):
        root = str(root)

        def under_root(fd: int) -> bool:
            try:
                return os.readlink(f"/proc/self/fd/{fd}").startswith(root)
            except OSError:
                return False

        def write(fd, data):
            if under_root(fd):
                real_write(fd, bytes(data[: max(1, len(data) // 2)]))
                raise exc
            return real_write(fd, data)

        real_fsync = os.fsync

        def fsync(fd):
            if under_root(fd):
                raise exc
            return real_fsync(fd)

        monkeypatch.setattr(os, "write" if where == "write" else "fsync",
                            write if where == "write" else fsync)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to tell which file a write goes to")
    return install


def _frame():
    return pd.DataFrame({"user_id": ["a", "b"], "x": [1.0, 2.5]})


def _embed(texts):
    return np.array([[len(t), 1.0, 2.0] for t in texts], dtype=np.float32)


def _ckpt_io():
    from causalrec.experiment.callbacks import atomic_checkpoint_io

    return atomic_checkpoint_io()


# name -> (prepare the directory with old content, write new content, file named in errors)
WRITERS = {
    "write_bytes": (lambda d: atomic.write_bytes(d / "f.bin", b"old"),
                    lambda d: atomic.write_bytes(d / "f.bin", b"new" * 5000), "f.bin"),
    "write_text": (lambda d: atomic.write_text(d / "f.txt", "old"),
                   lambda d: atomic.write_text(d / "f.txt", "new" * 5000), "f.txt"),
    "write_json": (lambda d: atomic.write_json(d / "f.json", {"a": 1}),
                   lambda d: atomic.write_json(d / "f.json", {"a": list(range(999))}), "f.json"),
    "write_atomic": (lambda d: atomic.write_text(d / "t.inter", "user_id:token\nz\n"),
                     lambda d: __import__("causalrec.data.atomic_files", fromlist=["x"])
                     .write_atomic(d / "t.inter", _frame(), {"user_id": "token", "x": "float"}),
                     "t.inter"),
    "write_record": (lambda d: record.write_record(d, {"m": 1.0}, config_yaml="a: 1\n"),
                     lambda d: record.write_record(d, {"m": 2.0}, config_yaml="a: 2\n"),
                     "config.yaml"),
    "write_error": (lambda d: record.write_error(d, ValueError("old"), config_yaml="a: 1\n"),
                    lambda d: record.write_error(d, ValueError("new"), config_yaml="a: 2\n"),
                    "config.yaml"),
    "embedding_cache": (
        lambda d: __import__("causalrec.encoders.cache", fromlist=["x"])
        .EmbeddingCache(d, {"k": 1}).get(["old text"], _embed),
        lambda d: __import__("causalrec.encoders.cache", fromlist=["x"])
        .EmbeddingCache(d, {"k": 1}).get(["old text", "a new text"], _embed), "shard-"),
    "checkpoint": (lambda d: _ckpt_io().save_checkpoint({"w": 1}, d / "checkpoints/best.ckpt"),
                   lambda d: _ckpt_io().save_checkpoint({"w": list(range(5000))},
                                                        d / "checkpoints/best.ckpt"),
                   "best.ckpt"),
    "staging_dir": (lambda d: atomic.write_text(d / "h" / "config.yaml", "old"),
                    lambda d: _stage(d / "h"), "config.yaml"),
}


def _stage(final: Path):
    with atomic.staging_dir(final) as tmp:
        atomic.write_text(tmp / "config.yaml", "new" * 5000)


FAULTS = {
    "disk-full": (lambda: OSError(errno.ENOSPC, "No space left on device"), "write"),
    "quota": (lambda: OSError(errno.EDQUOT, "Disk quota exceeded"), "write"),
    "disk-full-at-fsync": (lambda: OSError(errno.ENOSPC, "No space left on device"), "fsync"),
    "ctrl-c": (lambda: KeyboardInterrupt(), "write"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path, unchanged, fail_writes,
                                                               writer, fault):
    prepare, write, named = WRITERS[writer]
    make_exc, where = FAULTS[fault]
    prepare(tmp_path)
    exc = make_exc()
    fail_writes(tmp_path, exc, where)
    expected = KeyboardInterrupt if isinstance(exc, KeyboardInterrupt) else DiskFullError
    with unchanged(tmp_path), pytest.raises(expected) as e:
        write(tmp_path)
    if expected is DiskFullError:
        msg = str(e.value)
        assert e.value.errno == exc.errno and named in msg, msg
        assert f"mounted at {mount_point(tmp_path)}" in msg and "MiB free" in msg, msg
        assert e.value.__cause__ is None and e.value.__suppress_context__  # one error
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".partial"))]


def test_error_record_on_a_full_disk_keeps_the_run_error(tmp_path, unchanged, fail_writes):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    fail_writes(tmp_path, OSError(errno.ENOSPC, "No space left on device"))
    exc = RuntimeError("the run's own error")
    with unchanged(tmp_path):
        assert record.record_error(run_dir, exc, config_yaml="a: 1\n") is None
    assert "could not be written" in " ".join(getattr(exc, "__notes__", ["could not be written"]))


@pytest.mark.parametrize("case", ["finished-run", "missing-dir-without-create"])
def test_error_record_never_goes_where_it_does_not_belong(tmp_path, unchanged, case):
    run_dir = tmp_path / "run"
    if case == "finished-run":
        record.write_record(run_dir, {"m": 1.0}, config_yaml="a: 1\n")
    with unchanged(tmp_path):
        assert record.record_error(run_dir, ValueError("x"), config_yaml="b: 2\n",
                                   create=case == "finished-run") is None


def test_run_log_never_appends_to_a_finished_run(tmp_path):
    import logging

    from causalrec.experiment.callbacks import RunLogHandler

    done, new = tmp_path / "done", tmp_path / "new"
    record.write_record(done, {"m": 1.0}, config_yaml="a: 1\n")
    new.mkdir()
    rec = logging.LogRecord("causalrec", logging.INFO, __file__, 1, "hello", None, None)
    for d in (done, new):
        h = RunLogHandler(str(d / "train.log"))
        h.emit(rec)
        h.close()
    assert not (done / "train.log").exists()
    assert (new / "train.log").read_text().strip() == "hello"


def test_checkpoint_on_a_full_disk_fails_the_run_with_one_clear_error(tmp_path, fail_writes):
    """A real (tiny) training run whose checkpoint write hits a full disk: the run fails with
    DiskFullError naming best.ckpt and the filesystem, no partial checkpoint is left, and the
    error record is written (it is on the same disk, but the partial file was removed)."""
    from causalrec.experiment.api import run

    run_dir = tmp_path / "r"
    fail_writes(run_dir / "checkpoints", OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(DiskFullError) as e:
        run([*SMALL, "dataset.source.n_users=30", "dataset.source.n_items=30"], output_dir=run_dir)
    msg = str(e.value)
    assert str(run_dir / "checkpoints" / "best.ckpt") in msg
    assert f"mounted at {mount_point(run_dir)}" in msg
    assert list((run_dir / "checkpoints").iterdir()) == []
    err = json.loads((run_dir / "error.json").read_text())
    assert err["error"].startswith("DiskFullError") and "best.ckpt" in err["error"]
    assert not (run_dir / "metrics.json").exists()
