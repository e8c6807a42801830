"""The encoder contract: ``encode_users(idx) -> [B, d]`` and ``encode_items(idx) -> [B, d]``."""

from __future__ import annotations

import torch
from torch import nn


def as_interaction_data(data):
    """The training data as an :class:`~causalrec.data.InteractionData`.

    ``hydra.utils.instantiate(cfg.encoder, data=train)`` turns the InteractionData dataclass
    into a DictConfig; this turns it back, so encoders work however they were built (the
    clean way is :func:`causalrec.encoders.build_encoder`, which never converts it)."""
    try:
        from omegaconf import DictConfig, OmegaConf
    except ImportError:  # pragma: no cover
        return data
    if isinstance(data, DictConfig):
        return OmegaConf.to_object(data)
    return data


class Encoder(nn.Module):
    """Base class of intent encoders.

    Subclasses set ``self.dim`` and implement :meth:`encode_users` / :meth:`encode_items`.
    Every encoder is built as ``Encoder(data=<train InteractionData>, **config)`` so a new
    encoder is one class plus one YAML file in ``conf/encoder/``.
    """

    dim: int

    def encode_users(self, idx: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode_items(self, idx: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def all_items(self) -> torch.Tensor:
        """Representations of every item, [n_items, d] (used for full ranking)."""
        device = next(self.parameters()).device
        return self.encode_items(torch.arange(self.n_items, device=device))
