"""The ``train`` task: fit encoder + head on a dataset with Lightning, test the best
checkpoint, and return the metrics (lightning-hydra-template's ``train(cfg)`` shape)."""

from __future__ import annotations

from omegaconf import DictConfig, open_dict


def train_recommender(cfg: DictConfig) -> dict:
    """Train and evaluate encoder + head on a dataset; return the metrics (and, under the
    key ``_info``, provenance for the run record)."""
    import lightning as L
    import torch
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    from ...models.build import build_datamodule, build_module
    from ...privacy.engine import build_private_training
    from ..callbacks import atomic_checkpoint_io
    from ..loggers import build_loggers
    from ..runner import run_dir_of

    run_dir = run_dir_of(cfg)
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    torch.use_deterministic_algorithms(True, warn_only=True)

    datamodule = build_datamodule(cfg, seed=cfg.seed)
    datamodule.setup("fit")
    model = build_module(cfg, datamodule.train_data)
    m = cfg.model
    with open_dict(m):  # "auto" resolved by the head: the record names the monitor used
        m.monitor = model.monitor
    private = build_private_training(cfg.get("privacy"), datamodule, model,
                                     max_epochs=cfg.trainer.max_epochs, seed=cfg.seed)

    callbacks = [
        EarlyStopping(monitor=m.monitor, mode="max", patience=m.early_stopping_patience),
        # no version counter: this run's best checkpoint is always checkpoints/best.ckpt
        ModelCheckpoint(dirpath=run_dir / "checkpoints", monitor=m.monitor, mode="max",
                        save_top_k=1, filename="best", enable_version_counter=False),
    ]
    if private is not None:  # Poisson-sampled units, per-unit clipping and noise
        datamodule = private.datamodule
        callbacks.append(private.callback)
    loggers = build_loggers(cfg)
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                          default_root_dir=str(run_dir), plugins=[atomic_checkpoint_io()])
    if getattr(model.head, "trainable", True):
        trainer.fit(model, datamodule=datamodule)
    else:  # fitted when built (e.g. a neighbourhood method): nothing to train, validate once
        trainer.validate(model, datamodule=datamodule, verbose=False)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    ckpt = "best" if callbacks[1].best_model_path else None
    test = trainer.test(model, datamodule=datamodule, ckpt_path=ckpt, verbose=False)
    for d in test:
        metrics.update({k: float(v) for k, v in d.items()})
    metrics["epochs"] = float(trainer.current_epoch)
    if trainer.is_global_zero:  # what a Recommender needs, beside the tested weights
        from omegaconf import OmegaConf

        from ...recommend.artefacts import seen_matrix, write_inference

        write_inference(run_dir, model, datamodule.train_data, seen_matrix(datamodule.split),
                        OmegaConf.to_yaml(cfg, resolve=True),
                        "checkpoints/best.ckpt" if ckpt else None)
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
    if private is not None:
        metrics.update(private.metrics())
        metrics["_info"]["privacy"] = private.record()
    return metrics
