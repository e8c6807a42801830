"""Experiment loggers (CSV, TensorBoard, W&B) from the ``logger`` config group: every
logger gets the resolved config and its hash; W&B runs are grouped by sweep."""

from __future__ import annotations

import warnings
from pathlib import Path

from omegaconf import DictConfig, OmegaConf


def build_loggers(cfg: DictConfig) -> list:
    from hydra.utils import instantiate

    from .record import config_hash

    params = OmegaConf.to_container(cfg, resolve=True)
    params.pop("hydra", None)
    params["config_hash"] = config_hash(cfg)
    loggers = []
    for name, conf in (cfg.get("logger") or {}).items():
        if conf is None or "_target_" not in conf:
            continue
        try:
            if "Wandb" in str(conf.get("_target_")):
                conf = _wandb_grouping(cfg, conf)
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


def _wandb_grouping(cfg: DictConfig, conf: DictConfig) -> DictConfig:
    """Group W&B runs by sweep (the multirun directory's name) and name them by run dir."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from .train import is_multirun, run_dir_of

    conf = OmegaConf.merge(conf, {})  # a copy we may extend
    with open_dict(conf):
        if conf.get("group") is None and is_multirun():
            conf.group = Path(HydraConfig.get().sweep.dir).name
        if conf.get("name") is None:
            conf.name = run_dir_of(cfg).name
    return conf
