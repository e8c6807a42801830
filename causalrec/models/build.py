"""Build the LightningModule for a composed config: encoder (``build_encoder``) + head
(``build_head``) + :class:`~causalrec.models.module.CausalRecModule`. Used by training, by
:func:`causalrec.experiment.load_model` and by the Recommender."""

from __future__ import annotations

from omegaconf import DictConfig


def build_module(cfg: DictConfig, train_data, *, with_optimizer: bool = True):
    """Encoder + head + CausalRecModule for ``cfg`` over the training data."""
    from hydra.utils import instantiate

    from ..encoders.build import build_encoder
    from ..heads.build import build_head
    from .module import CausalRecModule

    encoder = build_encoder(cfg.encoder, train_data)
    head = build_head(cfg.head, encoder, train_data)
    m = cfg.model
    optim = {}
    if with_optimizer:
        optim = {"optimizer": instantiate(m.optimizer),
                 "scheduler": instantiate(m.scheduler) if m.get("scheduler") else None}
    return CausalRecModule(encoder, head, ks=list(m.ks), metrics=list(m.metrics),
                           monitor=m.monitor, diagnostics=bool(m.get("diagnostics", True)),
                           tail=float(m.get("tail", 0.8)), ips_eta=m.get("ips_eta"), **optim)
