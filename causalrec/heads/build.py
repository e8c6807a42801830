"""Build a head from its config: fit its propensity model once, then construct the head."""

from __future__ import annotations

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf


def build_head(cfg: DictConfig, encoder, data):
    """Instantiate ``cfg`` (a ``conf/head/*.yaml``) over ``encoder`` and the training data.

    A ``propensity`` entry in the head config, when present, is instantiated and fitted on
    ``data`` here, once (models that read representations, e.g. ``LogisticPropensity(
    source="encoder")``, also get the encoder), and passed to the head.
    """
    cfg = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    prop_cfg = cfg.pop("propensity", None)
    propensity = None
    if prop_cfg:
        propensity = instantiate(prop_cfg)
        if getattr(propensity, "uses_encoder", False):
            propensity.fit(data, encoder=encoder)
        else:
            propensity.fit(data)
    # data and propensity objects are passed to the constructor directly: handing them to
    # instantiate() would turn the InteractionData dataclass into a DictConfig
    factory = instantiate(cfg, _partial_=True)
    return factory(encoder=encoder, data=data, propensity=propensity)
