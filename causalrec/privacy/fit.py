"""Train a model on a given set of interactions (e.g. the members of an audit), privately
when the config says ``privacy=dp``, and return the trained module: the target and shadow
models of :mod:`causalrec.privacy.audit`. The model after the last step is returned (no
validation-based selection, which would use data outside the training set)."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf


def datamodule_for(cfg: DictConfig, data, seed: int):
    """The study's datamodule (``cfg.dataset`` options, the head's data needs resolved) over
    the InteractionData ``data`` instead of the configured source."""
    from hydra.utils import instantiate

    from ..models import build

    cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    resolve = getattr(build, "resolve_data_needs", None)
    if resolve is not None:
        resolve(cfg)
    options = OmegaConf.to_container(cfg.dataset, resolve=True)
    options.pop("source", None)
    options["seed"] = int(seed)
    factory = instantiate(OmegaConf.create(options), _partial_=True)
    return factory(source=data)


def fit_on(cfg: DictConfig, data, seed: int = 0, max_epochs: int | None = None,
           callbacks: list | None = None):
    """Train ``cfg``'s encoder + head on ``data``; returns ``(module, private)`` where
    ``private`` is the :class:`~causalrec.privacy.engine.PrivateTraining` (None without
    privacy), holding the spent ε. ``callbacks``: extra Lightning callbacks (e.g. timers)."""
    import lightning as L
    from hydra.utils import instantiate

    from ..models.build import build_module
    from .engine import build_private_training

    L.seed_everything(seed, workers=True, verbose=False)
    dm = datamodule_for(cfg, data, seed)
    dm.setup("fit")
    module = build_module(cfg, dm.train_data)
    epochs = int(max_epochs if max_epochs is not None else cfg.trainer.max_epochs)
    private = build_private_training(cfg.get("privacy"), dm, module, max_epochs=epochs, seed=seed)
    callbacks = list(callbacks or []) + ([private.callback] if private is not None else [])
    trainer = instantiate(cfg.trainer, max_epochs=epochs, callbacks=callbacks, logger=False,
                          enable_checkpointing=False, enable_progress_bar=False,
                          limit_val_batches=0, num_sanity_val_steps=0,
                          enable_model_summary=False)
    trainer.fit(module, datamodule=private.datamodule if private is not None else dm)
    return module.eval(), private
