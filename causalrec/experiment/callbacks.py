"""Hydra callbacks: a sweep summary that lists failed jobs and makes the sweep exit non-zero."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from .record import ERROR_FILE, RECORD_FILE

log = logging.getLogger("causalrec")


class SweepSummary(Callback):
    """After a multirun: count finished / failed jobs; exit 1 if any failed (all others
    ran to the end, each failure has its ``error.json``)."""

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
