"""Pooling token states into one vector per text: mean, CLS (first token) and last token.

Every rule reads the attention mask, so it is correct for left and right padding alike:

* ``mean`` averages the non-padding token states (Reimers & Gurevych 2019, Sentence-BERT);
* ``cls`` takes the first non-padding token (Devlin et al. 2019, BERT);
* ``last`` takes the last non-padding token, the summary a causal decoder LLM builds
  (e.g. Neelakantan et al. 2022; Wang et al. 2024, "Improving Text Embeddings with LLMs").
"""

from __future__ import annotations

import torch

POOLINGS = ("mean", "cls", "last")


def pool(hidden: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """Pool ``hidden`` [B, T, H] with attention ``mask`` [B, T] (1 = token) to [B, H].

    Example:
        >>> import torch
        >>> from causalrec.encoders import pool
        >>> hidden = torch.tensor([[[1., 2.], [3., 4.], [9., 9.]]])  # one text, three tokens
        >>> mask = torch.tensor([[1, 1, 0]])                        # the last is padding
        >>> pool(hidden, mask, "mean"), pool(hidden, mask, "last"), pool(hidden, mask, "cls")
        (tensor([[2., 3.]]), tensor([[3., 4.]]), tensor([[1., 2.]]))
    """
    if how not in POOLINGS:
        raise ValueError(f"unknown pooling {how!r}; choose one of {POOLINGS}")
    if hidden.dim() != 3 or mask.shape != hidden.shape[:2]:
        raise ValueError(f"pooling expects hidden [B, T, H] and mask [B, T]; got "
                         f"{tuple(hidden.shape)} and {tuple(mask.shape)}")
    mask = mask.to(hidden.device)
    if bool((mask.sum(1) == 0).any()):
        rows = torch.nonzero(mask.sum(1) == 0).flatten()[:5].tolist()
        raise ValueError(f"rows {rows} of the batch have no tokens (empty attention mask)")
    if how == "mean":
        m = mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * m).sum(1) / m.sum(1).clamp_min(1.0)
    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    if how == "last":
        index = torch.where(mask.bool(), positions, -1).amax(1)
    else:  # cls: the first real token, wherever the padding is
        index = torch.where(mask.bool(), positions, mask.shape[1]).amin(1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), index]
