"""Build a head from its config: fit its propensity model once, then construct the head."""

from __future__ import annotations

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf


def build_head(cfg: DictConfig, encoder, data):
    """Instantiate ``cfg`` (a ``conf/head/*.yaml``) over ``encoder`` and the training data.

    A ``propensity`` entry in the head config, when present, is instantiated and fitted on
    ``data`` here, once, and passed to the head.
    """
    cfg = OmegaConf.to_container(cfg, resolve=True)
    prop_cfg = cfg.pop("propensity", None)
    propensity = None
    if prop_cfg:
        propensity = instantiate(prop_cfg)
        propensity.fit(data)
    return instantiate(cfg, encoder=encoder, data=data, propensity=propensity)
