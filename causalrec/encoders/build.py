"""Build an encoder from its config (a ``conf/encoder/*.yaml``) over the training data."""

from __future__ import annotations

from .base import Encoder


def build_encoder(cfg, data) -> Encoder:
    """Instantiate ``cfg`` with ``data=<train InteractionData>``.

    The data is passed to the constructor directly: handing it to ``instantiate`` as a
    keyword would turn the InteractionData dataclass into a DictConfig.
    """
    from hydra.utils import instantiate

    factory = instantiate(cfg, _partial_=True)
    return factory(data=data)
