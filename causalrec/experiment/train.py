"""``causalrec-train``: the Hydra entry point, and :func:`train` for one composed config.

The shape follows lightning-hydra-template: instantiate the datamodule, model, callbacks,
loggers and trainer in that order, fit, test, and return the metrics. Every run writes a
record (metrics.json + resolved config) into its own run directory.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import warnings
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


def _build_loggers(cfg: DictConfig) -> list:
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

    conf = OmegaConf.merge(conf, {})  # a copy we may extend
    with open_dict(conf):
        if conf.get("group") is None and _is_multirun():
            conf.group = Path(HydraConfig.get().sweep.dir).name
        if conf.get("name") is None:
            conf.name = run_dir_of(cfg).name
    return conf


def build_module(cfg: DictConfig, train_data, *, with_optimizer: bool = True):
    """Encoder + head + CausalRecModule for ``cfg`` over the training data (used by
    training and by :func:`causalrec.experiment.load_model`)."""
    from hydra.utils import instantiate

    from ..heads.build import build_head
    from ..models.module import CausalRecModule

    # data passed to the constructor directly: as an instantiate() kwarg the InteractionData
    # dataclass would be converted to a DictConfig (and a simulator's meta can recurse)
    encoder = instantiate(cfg.encoder, _partial_=True)(data=train_data)
    head = build_head(cfg.head, encoder, train_data)
    m = cfg.model
    optim = {}
    if with_optimizer:
        optim = {"optimizer": instantiate(m.optimizer),
                 "scheduler": instantiate(m.scheduler) if m.get("scheduler") else None}
    return CausalRecModule(encoder, head, ks=list(m.ks), metrics=list(m.metrics),
                           monitor=m.monitor, diagnostics=bool(m.get("diagnostics", True)),
                           tail=float(m.get("tail", 0.8)), ips_eta=m.get("ips_eta"), **optim)


def train_recommender(cfg: DictConfig) -> dict:
    """Train and evaluate encoder + head on a dataset; return the metrics (and, under the
    key ``_info``, provenance for the run record)."""
    import lightning as L
    import torch
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    run_dir = run_dir_of(cfg)
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    torch.use_deterministic_algorithms(True, warn_only=True)

    datamodule = instantiate(cfg.dataset, seed=cfg.seed, _recursive_=True)
    datamodule.setup("fit")
    model = build_module(cfg, datamodule.train_data)
    m = cfg.model

    callbacks = [
        EarlyStopping(monitor=m.monitor, mode="max", patience=m.early_stopping_patience),
        # no version counter: this run's best checkpoint is always checkpoints/best.ckpt
        ModelCheckpoint(dirpath=run_dir / "checkpoints", monitor=m.monitor, mode="max",
                        save_top_k=1, filename="best", enable_version_counter=False),
    ]
    loggers = _build_loggers(cfg)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                          default_root_dir=str(run_dir))
    trainer.fit(model, datamodule=datamodule)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    ckpt = "best" if callbacks[1].best_model_path else None
    test = trainer.test(model, datamodule=datamodule, ckpt_path=ckpt, verbose=False)
    for d in test:
        metrics.update({k: float(v) for k, v in d.items()})
    metrics["epochs"] = float(trainer.current_epoch)
    if callbacks[1].best_model_score is not None:
        metrics[f"best_{m.monitor}"] = float(callbacks[1].best_model_score)
    for logger in loggers:
        if hasattr(logger, "finalize"):
            logger.finalize("success")
    if any("Wandb" in type(lg).__name__ for lg in loggers):
        import wandb

        wandb.finish()
    metrics["_info"] = {"data_fingerprint": datamodule.data.fingerprint(),
                        "data": datamodule.data.summary()}
    return metrics


def _graph_study(cfg: DictConfig) -> dict:
    from .graph_study import graph_study

    return graph_study(cfg)


def _ope_study(cfg: DictConfig) -> dict:
    from .ope_study import ope_study

    return ope_study(cfg)


TASKS = {"train": train_recommender, "graph": _graph_study, "ope": _ope_study}


def _overrides() -> list[str]:
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return list(HydraConfig.get().overrides.task)
    return []


def _is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _is_rank_zero() -> bool:
    """Only the first process of a distributed (DDP) run writes the record."""
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) == 0


def train(cfg: DictConfig) -> dict[str, float]:
    """Run the task named by ``cfg.task`` and write the run record; return the metrics.

    With ``resume=true`` a run whose config hash already has a complete record under
    ``paths.output_dir`` is skipped and its recorded metrics are returned. A failing run
    writes ``error.json`` (error, traceback, config) before the exception propagates.
    """
    from .record import config_hash, find_record, write_error, write_record

    if cfg.task not in TASKS:
        raise ValueError(f"unknown task {cfg.task!r}; choose one of {sorted(TASKS)}")
    run_dir = run_dir_of(cfg)
    chash = config_hash(cfg)
    writes = _is_rank_zero()
    if cfg.get("resume", False):
        done = find_record(cfg.paths.output_dir, chash)
        if done is not None:
            import json

            log.info("resume: %s already done in %s, skipping", chash[:12], done.parent)
            return json.loads(done.read_text())["metrics"]
    if (run_dir / "metrics.json").exists():
        raise FileExistsError(f"{run_dir} already holds a finished run (metrics.json); runs never "
                              "overwrite one another: choose a new output directory")
    run_dir.mkdir(parents=True, exist_ok=True)
    base = {"seed": int(cfg.seed), "task": cfg.task, "run_dir": str(run_dir),
            "config_hash": chash, "overrides": _overrides(), "tags": list(cfg.get("tags") or [])}
    start = time.perf_counter()
    try:
        metrics = dict(TASKS[cfg.task](cfg))
    except BaseException as exc:
        if writes:
            write_error(run_dir, exc, config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
                        extra={**base, "wall_time_s": round(time.perf_counter() - start, 3)})
        raise
    info = metrics.pop("_info", {})
    wall = time.perf_counter() - start
    if writes:
        write_record(run_dir, metrics, config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
                     extra={**base, "wall_time_s": round(wall, 3), **info})
    return metrics


def format_table(metrics: dict[str, float]) -> str:
    keys = sorted(k for k in metrics if "/" in k and not k.startswith(("train/", "best_")))
    if any(k.startswith("test/") for k in keys):  # the full record has val/* too
        keys = [k for k in keys if k.startswith("test/")]
    width = max((len(k) for k in keys), default=10)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
    lines += [f"{k:<{width}}  {metrics[k]:.4f}" for k in keys]
    return "\n".join(lines)


def _hydra_main():
    import hydra

    @hydra.main(version_base="1.3", config_path="pkg://causalrec.conf", config_name="config")
    def _main(cfg: DictConfig) -> float | None:
        try:
            metrics = train(cfg)
        except Exception as exc:
            if not _is_multirun():
                raise
            # one failed job must not stop the sweep: its error.json is written; the sweep
            # summary at the end lists it and exits non-zero
            log.error("job failed (%s: %s); error.json written in %s", type(exc).__name__, exc,
                      run_dir_of(cfg))
            return None
        print(format_table(metrics))
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
