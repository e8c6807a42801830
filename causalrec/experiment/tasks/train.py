"""The ``train`` task: fit encoder + head on a dataset with Lightning, test the best
checkpoint, and return the metrics (lightning-hydra-template's ``train(cfg)`` shape)."""

from __future__ import annotations

from omegaconf import DictConfig


def train_recommender(cfg: DictConfig) -> dict:
    """Train and evaluate encoder + head on a dataset; return the metrics (and, under the
    key ``_info``, provenance for the run record)."""
    import lightning as L
    import torch
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from ...models.build import build_module
    from ..loggers import build_loggers
    from ..train import run_dir_of

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
    loggers = build_loggers(cfg)
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
