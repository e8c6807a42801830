"""Run records: what a run did, written atomically into its run directory.

A record is ``metrics.json`` (metrics plus provenance: seed, data fingerprint, git commit,
package versions, wall time, peak memory) and ``config.yaml`` (the resolved config).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from .. import atomic

RECORD_FILE = "metrics.json"
CONFIG_FILE = "config.yaml"
_VERSIONED = ("causalrec", "torch", "lightning", "hydra-core", "omegaconf", "pgmpy",
              "transformers", "wandb", "numpy", "pandas", "scikit-learn")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(start: str | os.PathLike | None = None) -> str | None:
    """The commit of the checkout the package runs from (None outside a git checkout)."""
    where = Path(start) if start else Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    if out.returncode != 0 or not sha:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                           capture_output=True, text=True, timeout=5, check=False)
    return sha + ("-dirty" if dirty.stdout.strip() else "")


def peak_memory_mb() -> float:
    """Peak resident memory of this process (and finished children) in MiB."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / (1024 * 1024)
    return round(self_kb * scale, 1)


def write_record(run_dir: str | os.PathLike, metrics: dict[str, float], *, config_yaml: str,
                 extra: dict[str, Any] | None = None) -> Path:
    """Write ``config.yaml`` then ``metrics.json`` atomically; metrics.json is written last,
    so its presence means the record is complete."""
    run_dir = Path(run_dir)
    atomic.write_text(run_dir / CONFIG_FILE, config_yaml)
    record = {"metrics": {k: float(v) for k, v in metrics.items()},
              "versions": package_versions(), "git_commit": git_commit(),
              "peak_memory_mb": peak_memory_mb()}
    record.update(extra or {})
    return atomic.write_json(run_dir / RECORD_FILE, record)


ERROR_FILE = "error.json"
#: keys that do not change what a run computes; left out of the config hash
_VOLATILE_KEYS = ("paths", "hydra", "resume", "logger", "tags")


def config_hash(cfg) -> str:
    """sha256 of the resolved config without volatile keys (paths, logger, resume, tags)."""
    import hashlib
    import json

    from omegaconf import OmegaConf

    container = OmegaConf.to_container(cfg, resolve=False, throw_on_missing=False)
    # ${paths.*} used elsewhere (e.g. encoder.cache_dir) resolve to placeholders: locations
    # do not change what a run computes
    paths = container.get("paths")
    for key in _VOLATILE_KEYS:
        container.pop(key, None)
    if isinstance(paths, dict):
        container["paths"] = {k: f"<paths.{k}>" for k in paths}
    # resolve what can be resolved without Hydra's runtime (seed interpolations etc.)
    resolved = OmegaConf.to_container(OmegaConf.create(container), resolve=True)
    resolved.pop("paths", None)
    blob = json.dumps(resolved, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def find_record(root: str | os.PathLike, chash: str) -> Path | None:
    """A complete record under ``root`` whose ``config_hash`` is ``chash`` (None if none)."""
    import json

    root = Path(root)
    if not root.exists():
        return None
    for rec in root.rglob(RECORD_FILE):
        try:
            data = json.loads(rec.read_text())
        except (OSError, ValueError):
            continue  # an unreadable record does not count as done
        if data.get("config_hash") == chash:
            return rec
    return None


def write_error(run_dir: str | os.PathLike, exc: BaseException, *, config_yaml: str,
                extra: dict[str, Any] | None = None) -> Path:
    """Record a failed run: the error, its traceback and the config (atomically)."""
    import traceback

    run_dir = Path(run_dir)
    atomic.write_text(run_dir / CONFIG_FILE, config_yaml)
    record = {"error": f"{type(exc).__name__}: {exc}",
              "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
              "versions": package_versions(), "git_commit": git_commit()}
    record.update(extra or {})
    return atomic.write_json(run_dir / ERROR_FILE, record)


class RunDirectoryTaken(FileExistsError):
    """The run directory already holds a finished run (its ``metrics.json``)."""


def check_run_dir_free(run_dir: str | os.PathLike) -> None:
    """Refuse a directory that holds a finished run: runs never overwrite one another."""
    run_dir = Path(run_dir)
    if (run_dir / RECORD_FILE).exists():
        raise RunDirectoryTaken(
            f"{run_dir} already holds a finished run ({RECORD_FILE}); runs never overwrite one "
            "another, and nothing in it was changed: choose a new output directory")


def record_error(run_dir: str | os.PathLike, exc: BaseException, *, config_yaml: str,
                 extra: dict[str, Any] | None = None, create: bool = True) -> Path | None:
    """Write ``error.json`` for ``exc`` when possible, never making matters worse.

    Nothing is written into a directory that holds a finished run, nor (``create=False``)
    into one that does not exist yet. A failure to write the record (a full disk) is logged
    and added to ``exc`` as a note, so the run still fails with its own error, not this one.
    """
    import logging

    run_dir = Path(run_dir)
    if (run_dir / RECORD_FILE).exists() or (not create and not run_dir.is_dir()):
        return None
    try:
        return write_error(run_dir, exc, config_yaml=config_yaml, extra=extra)
    except OSError as failed:
        logging.getLogger("causalrec").error("could not write %s: %s", run_dir / ERROR_FILE,
                                             failed)
        if hasattr(exc, "add_note"):  # Python >= 3.11
            exc.add_note(f"(the error record {run_dir / ERROR_FILE} could not be written: "
                         f"{failed})")
        return None


HYDRA_DIR = ".hydra"


def write_hydra_files(run_dir: str | os.PathLike, task_cfg) -> Path | None:
    """Hydra's ``.hydra/{config,hydra,overrides}.yaml`` for an accepted run, as one folder
    that appears atomically (:func:`causalrec.atomic.staging_dir`).

    causalrec's root config sets ``hydra.output_subdir: null`` so that Hydra does not write
    these before the run is checked: a run refused because its directory holds a finished
    run must leave that run's files as they were. The content is what Hydra writes (the
    unresolved task config, the Hydra config, the task overrides). No-op outside Hydra.
    """
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.instance().cfg
    target = Path(run_dir) / HYDRA_DIR
    with atomic.staging_dir(target) as tmp:
        for name, node in (("config.yaml", task_cfg), ("hydra.yaml", hydra_cfg),
                           ("overrides.yaml", hydra_cfg.hydra.overrides.task)):
            atomic.write_text(tmp / name, OmegaConf.to_yaml(node))
    return target
