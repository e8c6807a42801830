"""Hooks into Hydra and Lightning that keep run directories honest.

* :class:`SweepSummary` (Hydra callback): refuses a directory that holds a sweep (unless
  resuming it), lists failed jobs and makes the sweep exit non-zero.
* :class:`RunLogHandler` (Hydra's job log file): never appends to a finished run's log.
* :func:`atomic_checkpoint_io` (Lightning plugin): checkpoints written atomically in the
  run directory, with one clear error when the disk is full.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from .record import ERROR_FILE, RECORD_FILE

log = logging.getLogger("causalrec")


class SweepSummary(Callback):
    """Before a multirun: refuse a sweep directory that already holds a sweep, unless
    ``resume=true`` continues it (Hydra would rewrite its ``multirun.yaml``). After it: count
    finished / failed jobs; exit 1 if any failed (all others ran to the end, each failure has
    its ``error.json``)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if (sweep_dir / "multirun.yaml").exists() and config.get("resume") is not True:
            # SystemExit: Hydra turns any other exception from a callback into a warning
            raise SystemExit(
                f"error: {sweep_dir} already holds a sweep (multirun.yaml); nothing in it was "
                "changed. Continue it with resume=true (finished jobs are skipped) or choose a "
                "new hydra.sweep.dir")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        done = sorted(sweep_dir.rglob(RECORD_FILE))
        failed = sorted(sweep_dir.rglob(ERROR_FILE))
        failed = [f for f in failed if not (f.parent / RECORD_FILE).exists()]
        log.info("sweep %s: %d runs recorded, %d failed", sweep_dir, len(done), len(failed))
        for f in failed:
            err = json.loads(f.read_text()).get("error", "?")
            log.error("failed: %s: %s", f.parent, err)
        if failed:
            raise SystemExit(1)


class RunLogHandler(logging.FileHandler):
    """Hydra's job log file (``<run dir>/<job name>.log``, see ``hydra.job_logging`` in the
    root config), opened on the first record only, and never in a directory that already
    held a finished run when the job started: a refused or resumed job changes nothing
    there (its messages still go to the console)."""

    def __init__(self, filename: str, mode: str = "a", encoding: str | None = None,
                 delay: bool = True, errors: str | None = None):
        self.finished_before = (Path(filename).parent / RECORD_FILE).exists()
        super().__init__(filename, mode, encoding, delay=True, errors=errors)

    def emit(self, record: logging.LogRecord) -> None:
        if not self.finished_before:
            super().emit(record)


@functools.cache
def _atomic_checkpoint_io_class() -> type:
    import io

    from lightning.pytorch.plugins.io import TorchCheckpointIO

    from .. import atomic

    class AtomicCheckpointIO(TorchCheckpointIO):
        """Lightning's ``TorchCheckpointIO`` with the file written by
        :func:`causalrec.atomic.write_bytes`: a temporary file next to the checkpoint,
        fsynced, then renamed over it. (Lightning's own writer stages local files in the
        system temp folder and moves them across filesystems, so a full disk leaves a
        truncated checkpoint.) A full disk raises :class:`causalrec.atomic.DiskFullError`
        naming the checkpoint and the filesystem, and the previous checkpoint is intact."""

        def save_checkpoint(self, checkpoint: dict[str, Any], path: Any,
                            storage_options: Any = None) -> None:
            if storage_options is not None or "://" in str(path):
                return super().save_checkpoint(checkpoint, path, storage_options)
            import torch

            buf = io.BytesIO()
            torch.save(checkpoint, buf)
            atomic.write_bytes(os.fspath(path), buf.getvalue())
            return None

    return AtomicCheckpointIO


def atomic_checkpoint_io():
    """A new ``AtomicCheckpointIO`` plugin for ``lightning.Trainer(plugins=[...])``."""
    return _atomic_checkpoint_io_class()()
