"""Experiment loggers (CSV, TensorBoard, W&B) from the ``logger`` config group, and the W&B
run of a comparison.

Every logger gets the resolved config and its hash. W&B runs of one sweep share a group
(the sweep directory's name) and are named by their run directory; both are written into
the run's config first, so the W&B config and the run's ``config.yaml`` are the same
(W&B's has ``config_hash`` in addition).
"""

from __future__ import annotations

import os
import warnings
from contextvars import ContextVar
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

#: the config hash of the run being trained, set by :func:`causalrec.experiment.runner.train`
#: when the run starts: a task may fill in config values later (e.g. the data needs of the
#: head), and the loggers must report the hash the run record gets
RUN_CONFIG_HASH: ContextVar[str | None] = ContextVar("RUN_CONFIG_HASH", default=None)


def build_loggers(cfg: DictConfig) -> list:
    """Instantiate ``cfg.logger``; a W&B logger is grouped and named in ``cfg`` itself
    (see :func:`set_wandb_grouping`), so ``config.yaml`` records what W&B shows."""
    from hydra.utils import instantiate

    from .record import config_hash

    set_wandb_grouping(cfg)
    params = OmegaConf.to_container(cfg, resolve=True)
    params.pop("hydra", None)
    params["config_hash"] = RUN_CONFIG_HASH.get() or config_hash(cfg)
    loggers = []
    for name, conf in (cfg.get("logger") or {}).items():
        if conf is None or "_target_" not in conf:
            continue
        try:
            logger = instantiate(conf)
            if "Wandb" in type(logger).__name__:
                _ = logger.experiment  # start W&B now so a failure is caught here, not mid-fit
        except Exception as exc:  # noqa: BLE001 - a logger must never stop a run
            warnings.warn(f"logger {name!r} could not start ({type(exc).__name__}: {exc}); "
                          "training continues without it, the run record is still written",
                          RuntimeWarning, stacklevel=2)
            continue
        if hasattr(logger, "log_hyperparams"):
            logger.log_hyperparams(params)
        loggers.append(logger)
    return loggers


def set_wandb_grouping(cfg: DictConfig) -> None:
    """Fill ``group`` (the multirun sweep directory's name) and ``name`` (the run
    directory's name) of every W&B logger config left at null, in ``cfg`` itself."""
    from omegaconf import open_dict

    from .runner import run_dir_of, sweep_dir_of

    for conf in (cfg.get("logger") or {}).values():
        if conf is None or "Wandb" not in str(conf.get("_target_", "")):
            continue
        with open_dict(conf):
            sweep = sweep_dir_of()
            if conf.get("group") is None and sweep is not None:
                conf.group = sweep.name
            if conf.get("name") is None:
                conf.name = run_dir_of(cfg).name


def sweep_group(runs, sweep_dir: Path) -> str:
    """The W&B group of the runs (their ``logger.wandb.group`` in config.yaml, when they
    agree), else the sweep directory's name."""
    from .runs import add_config_columns

    try:
        groups = add_config_columns(runs, ["logger.wandb.group"])["logger.wandb.group"]
    except (KeyError, FileNotFoundError):
        return sweep_dir.name
    groups = set(groups.dropna().astype(str))
    return groups.pop() if len(groups) == 1 else sweep_dir.name


def log_comparison(result, sweep_dir: str | os.PathLike, project: str | None = None) -> Path:
    """Log a :class:`~causalrec.experiment.compare.Comparison` to W&B: the summary, paired
    and ranking tables as ``wandb.Table`` and the written plots as images, in a run of the
    sweep's group whose files live in ``<sweep_dir>/wandb`` (offline unless ``WANDB_MODE``
    says otherwise). Returns the W&B run directory."""
    import wandb

    sweep_dir = Path(sweep_dir)
    group = sweep_group(result.runs, sweep_dir)
    out = Path(result.out_dir) if result.out_dir else None
    mode = os.environ.get("WANDB_MODE", "offline")
    run = wandb.init(project=project or os.environ.get("WANDB_PROJECT", "causalrec"),
                     group=group, job_type="compare", dir=str(sweep_dir), mode=mode,
                     name=out.name if out else "compare", reinit="create_new",
                     config={"group_by": result.group_by, "blocks": result.blocks,
                             "baseline": result.baseline, "runs": len(result.runs)})
    try:
        data = {"comparison": wandb.Table(dataframe=result.summary)}
        for metric, diffs in result.paired.items():
            data[f"paired/{metric}"] = wandb.Table(dataframe=diffs)
        if result.ranking is not None:
            ranks = result.ranking.ranks.rename("average_rank").reset_index()
            data["ranking"] = wandb.Table(dataframe=ranks)
        for png in sorted(out.glob("*.png")) if out else []:
            data[f"plots/{png.stem}"] = wandb.Image(str(png))
        run.log(data)
        run.summary["notes"] = "\n".join(result.notes)
        where = Path(run.dir).parent
    finally:
        run.finish()
    return where
