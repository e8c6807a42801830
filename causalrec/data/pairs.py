"""(user, item) pairs as int64 keys ``user * n_items + item``: the one pair lookup.

:func:`pair_keys` makes the keys (NumPy or torch); :func:`sorted_unique` and :func:`member`
test membership in NumPy (negative sampling); :class:`PairIndex` looks pairs up in torch
(training steps: randomized-row masks, logged propensities).
"""

from __future__ import annotations

import numpy as np
import torch


def pair_keys(users, items, n_items: int):
    """``user * n_items + item`` as int64 (NumPy arrays in, NumPy out; tensors in, tensor out)."""
    if isinstance(users, torch.Tensor):
        return users.long() * int(n_items) + items.long()
    return (np.asarray(users).astype(np.int64, copy=False) * int(n_items)
            + np.asarray(items).astype(np.int64, copy=False))


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` for int64 keys via one sort (NumPy 2's hash-based unique is ~20x slower
    on a million keys)."""
    a = np.sort(a, kind="stable")
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in the sorted array ``sorted_keys`` (vectorised)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[pos] == keys


class PairIndex:
    """A sorted set of (user, item) pairs, optionally with one value per pair (the mean of
    the values given for a repeated pair), looked up on tensors."""

    def __init__(self, users, items, n_items: int, values=None):
        self.n_items = int(n_items)
        keys = pair_keys(np.asarray(users), np.asarray(items), self.n_items)
        if values is None:
            self.keys, self.values = torch.from_numpy(sorted_unique(keys)), None
        else:
            import pandas as pd

            s = pd.Series(np.asarray(values, dtype=np.float64)).groupby(keys).mean()
            self.keys = torch.tensor(s.index.to_numpy(np.int64))
            self.values = torch.tensor(s.to_numpy(), dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(found, pos)``: whether each pair is in the index, and its position."""
        keys = pair_keys(users, items, self.n_items)
        if len(self.keys) == 0:
            return torch.zeros(len(keys), dtype=torch.bool, device=keys.device), keys * 0
        table = self.keys.to(keys.device)
        pos = torch.searchsorted(table, keys).clamp(max=len(table) - 1)
        return table[pos] == keys, pos

    def contains(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.find(users, items)[0]
