"""The head contract: ``loss(batch, outputs)``, ``score(users, items)``, ``full_scores(users)``."""

from __future__ import annotations

import torch
from torch import nn


class Head(nn.Module):
    """Base class of causal effect heads.

    A head is built as ``Head(encoder=..., data=<train InteractionData>, propensity=None,
    **config)``. ``forward(batch)`` computes what :meth:`loss` needs (the module calls
    ``loss(batch, self(batch))``); :meth:`score` and :meth:`full_scores` give the ranking
    scores used at evaluation time (a head with counterfactual inference, e.g. MACR or PDA,
    applies it there). Propensity models are fitted once outside and passed in, never
    recomputed inside a training step.
    """

    def __init__(self, encoder: nn.Module, data=None, propensity=None):
        super().__init__()
        self.encoder = encoder
        self.propensity = propensity

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"score": self.score(batch["user"], batch["item"])}

    def loss(self, batch: dict[str, torch.Tensor], outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        return (u * v).sum(-1)

    def full_scores(self, users: torch.Tensor) -> torch.Tensor:
        u = self.encoder.encode_users(users)
        return u @ self.encoder.all_items().T
