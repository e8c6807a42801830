"""A small MLP over a (user, item) pair's representations, shared by the uplift heads."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class PairMLP(nn.Module):
    """``MLP([u, v, u * v])``: a representation of the pair (ReLU between layers and after
    the last one)."""

    def __init__(self, dim: int, hidden: Sequence[int] = (64, 32)):
        super().__init__()
        sizes = [3 * dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.out_dim = sizes[-1]

    def forward(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([u, v, u * v], -1))


def chunked_full(fn, users: torch.Tensor, n_items: int, max_pairs: int = 1 << 18) -> torch.Tensor:
    """``fn(users_rep [b], items [n])`` -> [b, n] evaluated over every item for a batch of
    users, a few users at a time so that at most ``max_pairs`` pairs are in memory."""
    step = max(1, max_pairs // max(n_items, 1))
    items = torch.arange(n_items, device=users.device)
    out = []
    for start in range(0, len(users), step):
        u = users[start:start + step]
        uu = u.repeat_interleave(n_items)
        ii = items.repeat(len(u))
        out.append(fn(uu, ii).reshape(len(u), n_items))
    return torch.cat(out) if out else torch.zeros(0, n_items, device=users.device)
