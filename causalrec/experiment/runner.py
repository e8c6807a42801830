"""``causalrec-train``: the Hydra entry point, and :func:`train` for one composed config.

:func:`train` runs the task named by ``cfg.task`` (:mod:`causalrec.experiment.tasks`:
``train``, ``graph``, ``ope``, ...) and writes the run record (metrics.json + resolved
config) into the run's own directory, atomically.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("causalrec")


def register_resolvers() -> None:
    """``${cr_uid:}``: a short random id that keeps run directories unique."""
    if not OmegaConf.has_resolver("cr_uid"):
        OmegaConf.register_new_resolver("cr_uid", lambda: secrets.token_hex(3), use_cache=True)


register_resolvers()


def run_dir_of(cfg: DictConfig) -> Path:
    """The run directory: Hydra's output dir inside a Hydra app, else ``paths.run_dir``."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(OmegaConf.select(cfg, "paths.run_dir", throw_on_missing=True))


def _overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return list(HydraConfig.get().overrides.task)
    return []


def is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def sweep_dir_of() -> Path | None:
    """The multirun sweep directory inside a Hydra multirun job, else None."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().sweep.dir) if is_multirun() else None


def _is_rank_zero() -> bool:
    """Only the first process of a distributed (DDP) run writes the record."""
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0


def train(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, float]:
    """Run the task named by ``cfg.task`` and write the run record; return the metrics.

    With ``resume=true`` a run whose config hash already has a complete record under
    ``paths.output_dir`` is skipped and its recorded metrics are returned. A failing run
    writes ``error.json`` (error, traceback, config) before the exception propagates.
    ``overrides`` are recorded as the run's overrides (default: Hydra's, under
    ``causalrec-train``; :func:`causalrec.experiment.run` passes the notebook's).
    """
    from .loggers import RUN_CONFIG_HASH
    from .record import (
        check_run_dir_free,
        config_hash,
        find_record,
        record_error,
        write_hydra_files,
        write_record,
    )
    from .schema import ConfigValidationError, validate_config
    from .tasks import get_task

    try:  # types and ranges of the config, before anything is built or written
        validate_config(cfg)
    except ConfigValidationError as exc:  # record it only where Hydra already made the dir
        from hydra.core.hydra_config import HydraConfig

        if _is_rank_zero() and HydraConfig.initialized():
            record_error(run_dir_of(cfg), exc, config_yaml=OmegaConf.to_yaml(cfg), create=False)
        raise
    task = get_task(cfg.task)
    run_dir = run_dir_of(cfg)
    chash = config_hash(cfg)
    writes = _is_rank_zero()
    if cfg.get("resume", False):
        done = find_record(cfg.paths.output_dir, chash)
        if done is not None:
            import json

            log.info("resume: %s already done in %s, skipping", chash[:12], done.parent)
            return json.loads(done.read_text())["metrics"]
    check_run_dir_free(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if writes:  # Hydra's .hydra/ files, only now that the run is accepted
        write_hydra_files(run_dir, cfg)
    base = {"seed": int(cfg.seed), "task": cfg.task, "run_dir": str(run_dir),
            "config_hash": chash,
            "overrides": _overrides() if overrides is None else list(overrides),
            "tags": list(cfg.get("tags") or [])}
    start = time.perf_counter()
    hash_token = RUN_CONFIG_HASH.set(chash)  # loggers report the hash the record gets
    try:
        metrics = dict(task(cfg))
    except BaseException as exc:
        if writes:
            record_error(run_dir, exc, config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
                         extra={**base, "wall_time_s": round(time.perf_counter() - start, 3)})
        raise
    finally:
        RUN_CONFIG_HASH.reset(hash_token)
    info = metrics.pop("_info", {})
    wall = time.perf_counter() - start
    if writes:
        write_record(run_dir, metrics, config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
                     extra={**base, "wall_time_s": round(wall, 3), **info})
    return metrics


def metrics_table(metrics: dict[str, float]) -> str:
    """The run's test metrics (or validation metrics when there is no test) as a text table."""
    keys = sorted(k for k in metrics if "/" in k and not k.startswith(("train/", "best_")))
    if any(k.startswith("test/") for k in keys):  # the full record has val/* too
        keys = [k for k in keys if k.startswith("test/")]
    width = max((len(k) for k in keys), default=10)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
    lines += [f"{k:<{width}}  {metrics[k]:.4f}" for k in keys]
    return "\n".join(lines)


def _one_line_per_log_record() -> None:
    """Hydra's root handlers print every record; Lightning's ``lightning`` logger has its own
    console handler and also propagates to the root, so each Lightning line would be printed
    twice. Lightning lines are printed once by Lightning's handler and still reach Hydra's
    job log file (without importing Lightning here: a graph task never needs it)."""
    lightning = logging.getLogger("lightning")
    lightning.propagate = False
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler) and handler not in lightning.handlers:
            lightning.addHandler(handler)


def _hydra_main():
    import hydra

    @hydra.main(version_base="1.3", config_path="pkg://causalrec.conf", config_name="config")
    def _main(cfg: DictConfig) -> float | None:
        _one_line_per_log_record()
        try:
            metrics = train(cfg)
        except Exception as exc:
            if not is_multirun() or isinstance(exc, FileExistsError):
                raise  # a refused run (finished directory) has no error.json: fail the sweep
            # one failed job must not stop the sweep: its error.json is written; the sweep
            # summary at the end lists it and exits non-zero
            log.error("job failed (%s: %s); error.json written in %s", type(exc).__name__, exc,
                      run_dir_of(cfg))
            return None
        print(metrics_table(metrics))
        print(f"run record: {run_dir_of(cfg) / 'metrics.json'}")
        # sweepers (Optuna) optimise the validation metric, never a test metric
        monitor = OmegaConf.select(cfg, "model.monitor")
        return metrics.get(f"best_{monitor}", metrics.get(monitor)) if monitor else None

    return _main


def main() -> None:
    os.environ.setdefault("WANDB_SILENT", "true")
    _hydra_main()()


if __name__ == "__main__":
    main()
