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

_RESOLVERS_REGISTERED = False


def register_resolvers() -> None:
    """``${cr_uid:}``: a short random id that keeps run directories unique."""
    global _RESOLVERS_REGISTERED
    if _RESOLVERS_REGISTERED:
        return
    if not OmegaConf.has_resolver("cr_uid"):
        OmegaConf.register_new_resolver("cr_uid", lambda: secrets.token_hex(3), use_cache=True)
    _RESOLVERS_REGISTERED = True


register_resolvers()


def run_dir_of(cfg: DictConfig) -> Path:
    """The run directory: Hydra's output dir inside a Hydra app, else ``paths.run_dir``."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(OmegaConf.select(cfg, "paths.run_dir", throw_on_missing=True))


def _build_loggers(cfg: DictConfig, run_dir: Path) -> list:
    from hydra.utils import instantiate

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
        loggers.append(logger)
    return loggers


def train_recommender(cfg: DictConfig) -> dict:
    """Train and evaluate encoder + head on a dataset; return the metrics (and, under the
    key ``_info``, provenance for the run record)."""
    import lightning as L
    import torch
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from ..heads.build import build_head
    from ..models.module import CausalRecModule

    run_dir = run_dir_of(cfg)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    torch.use_deterministic_algorithms(True, warn_only=True)

    datamodule = instantiate(cfg.dataset, seed=cfg.seed, _recursive_=True)
    datamodule.setup("fit")
    train_data = datamodule.train_data
    encoder = instantiate(cfg.encoder, data=train_data)
    head = build_head(cfg.head, encoder, train_data)
    m = cfg.model
    model = CausalRecModule(encoder, head, optimizer=instantiate(m.optimizer),
                            scheduler=instantiate(m.scheduler) if m.get("scheduler") else None,
                            ks=list(m.ks), metrics=list(m.metrics), monitor=m.monitor)

    callbacks = [
        EarlyStopping(monitor=m.monitor, mode="max", patience=m.early_stopping_patience),
        ModelCheckpoint(dirpath=run_dir / "checkpoints", monitor=m.monitor, mode="max",
                        save_top_k=1, filename="best"),
    ]
    loggers = _build_loggers(cfg, run_dir)
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


TASKS = {"train": train_recommender}


def train(cfg: DictConfig) -> dict[str, float]:
    """Run the task named by ``cfg.task`` and write the run record; return the metrics."""
    from .record import write_record

    if cfg.task not in TASKS:
        raise ValueError(f"unknown task {cfg.task!r}; choose one of {sorted(TASKS)}")
    run_dir = run_dir_of(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    metrics = dict(TASKS[cfg.task](cfg))
    info = metrics.pop("_info", {})
    wall = time.perf_counter() - start
    write_record(run_dir, metrics, config_yaml=OmegaConf.to_yaml(cfg, resolve=True),
                 extra={"seed": int(cfg.seed), "task": cfg.task, "wall_time_s": round(wall, 3),
                        "run_dir": str(run_dir), **info})
    return metrics


def format_table(metrics: dict[str, float]) -> str:
    keys = sorted(k for k in metrics if k.startswith(("test/", "val/")))
    width = max((len(k) for k in keys), default=10)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
    lines += [f"{k:<{width}}  {metrics[k]:.4f}" for k in keys]
    return "\n".join(lines)


def _hydra_main():
    import hydra

    @hydra.main(version_base="1.3", config_path="pkg://causalrec.conf", config_name="config")
    def _main(cfg: DictConfig) -> float | None:
        metrics = train(cfg)
        print(format_table(metrics))
        print(f"run record: {run_dir_of(cfg) / 'metrics.json'}")
        monitor = OmegaConf.select(cfg, "model.monitor")
        return metrics.get(f"test/{monitor.split('/', 1)[-1]}") if monitor else None

    return _main


def main() -> None:
    os.environ.setdefault("WANDB_SILENT", "true")
    _hydra_main()()


if __name__ == "__main__":
    main()
