"""The element-wise prediction losses shared by the pointwise heads (BCE on logits, MSE)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSS_TYPES = ("bce", "mse")


def check_loss_type(loss_type: str, owner: str) -> str:
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"{owner}.loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
    return loss_type


def elementwise_loss(score: torch.Tensor, target: torch.Tensor, loss_type: str) -> torch.Tensor:
    """Per-row loss: BCE of a logit ``score`` against a (soft) 0/1 target, or squared error."""
    if loss_type == "bce":
        return F.binary_cross_entropy_with_logits(score, target.float(), reduction="none")
    return (score - target.float()).pow(2)


def prediction(score: torch.Tensor, loss_type: str) -> torch.Tensor:
    """What a score predicts on the label scale: sigmoid for BCE logits, itself for MSE."""
    return torch.sigmoid(score) if loss_type == "bce" else score
