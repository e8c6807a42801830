"""Seeded, deterministic train/valid/test splits (same seed, same split, byte for byte)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .schema import DataValidationError, InteractionData


@dataclass(eq=False)
class Split:
    """Three views of one dataset that share its id spaces."""

    train: InteractionData
    valid: InteractionData
    test: InteractionData
    protocol: str = "random"

    def sizes(self) -> dict:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def _ratio_counts(n: np.ndarray, ratios: tuple[float, ...]) -> np.ndarray:
    """Per-group counts for each part, RecBole-style: later parts get floor(r*n), the first
    part takes the rest. Returns an array of shape (len(n), len(ratios))."""
    r = np.asarray(ratios, dtype=float)
    r = r / r.sum()
    counts = np.floor(n[:, None] * r[None, :]).astype(np.int64)
    counts[:, 0] = n - counts[:, 1:].sum(axis=1)
    return counts


def random_split(data: InteractionData, ratios=(0.8, 0.1, 0.1), seed: int = 0,
                 group_by_user: bool = True) -> Split:
    """Shuffle interactions (within each user when ``group_by_user``) and cut by ratio."""
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise DataValidationError(f"split ratios must be three non-negative numbers, got {ratios}",
                                  source=data.source)
    rng = np.random.default_rng(seed)
    n = len(data.interactions)
    key = rng.random(n)
    if group_by_user:
        users = data.interactions["user"].to_numpy()
        order = np.lexsort((key, users))
        su = users[order]
        starts = np.flatnonzero(np.r_[True, su[1:] != su[:-1]])
        sizes = np.diff(np.r_[starts, n])
        pos = np.arange(n) - np.repeat(starts, sizes)
        counts = _ratio_counts(sizes, tuple(ratios))
        c0 = np.repeat(counts[:, 0], sizes)
        c1 = np.repeat(counts[:, 1], sizes)
        part_sorted = np.where(pos < c0, 0, np.where(pos < c0 + c1, 1, 2))
    else:
        order = np.argsort(key, kind="stable")
        counts = _ratio_counts(np.array([n]), tuple(ratios))[0]
        pos = np.arange(n)
        part_sorted = np.where(pos < counts[0], 0, np.where(pos < counts[0] + counts[1], 1, 2))
    part = np.empty(n, dtype=np.int8)
    part[order] = part_sorted
    return Split(train=data.subset(np.flatnonzero(part == 0), name=f"{data.name}/train"),
                 valid=data.subset(np.flatnonzero(part == 1), name=f"{data.name}/valid"),
                 test=data.subset(np.flatnonzero(part == 2), name=f"{data.name}/test"),
                 protocol="random")


PROTOCOLS = {"random": random_split}


def make_split(data: InteractionData, protocol: str = "random", seed: int = 0, **options) -> Split:
    """Split ``data`` with a named protocol (see ``PROTOCOLS``)."""
    try:
        fn = PROTOCOLS[protocol]
    except KeyError:
        raise DataValidationError(
            f"unknown split protocol {protocol!r}; choose one of {sorted(PROTOCOLS)}",
            source=data.source) from None
    return fn(data, seed=seed, **options)
