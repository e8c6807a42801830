"""Poisson sampling of privacy units (users, or single interactions) for DP-SGD.

The amplification-by-subsampling analysis behind the accountant (Mironov, Talwar and Zhang
2019) assumes each unit joins each step's batch independently with probability ``q``; a
shuffled loader gives a different (weaker) guarantee. Under user-level privacy the unit is a
user with all of their training rows: a step draws one Bernoulli(q) per user and takes every
row of the chosen users, so one user's data enters a step at most once, as one group. Each
row carries its ``group`` (the unit it belongs to), which the clipper uses to clip per unit.

The rows themselves (positives and sampled negatives) come from the datamodule's own epoch
generator, so a private epoch sees the same kind of rows as a non-private one.
"""

from __future__ import annotations

from collections.abc import Iterator

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

UNITS = ("user", "interaction")


def unit_rows(groups: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, pointer): the rows of unit ``k`` are ``order[pointer[k]:pointer[k + 1]]``."""
    order = np.argsort(groups, kind="stable")
    pointer = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_units), out=pointer[1:])
    return order, pointer


def poisson_rows(rng: np.random.Generator, order: np.ndarray, pointer: np.ndarray,
                 sample_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """(rows, chosen units) of one Poisson-sampled step: every unit independently with
    probability ``sample_rate``, with all of its rows."""
    n_units = len(pointer) - 1
    chosen = np.flatnonzero(rng.random(n_units) < sample_rate)
    starts, ends = pointer[chosen], pointer[chosen + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), chosen
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return order[offsets + np.arange(total)], chosen


class PoissonBatches(IterableDataset):
    """Each iteration is one epoch of ``steps_per_epoch`` Poisson-sampled batches.

    Args:
        make_epoch: ``epoch -> {column: array}`` (the datamodule's training rows).
        unit: ``"user"`` (group = the row's user) or ``"interaction"`` (group = the row).
        n_users: size of the user index space (user units are indexed by user id).
        sample_rate: the probability ``q`` that a unit joins a step.
        steps_per_epoch: steps per epoch (``round(1 / q)``, as Opacus's Poisson loader).
        seed: seeds the sampling (with the epoch number).

    An empty draw yields one placeholder row with ``group = -1``: the step still happens
    (the accountant counts it and the noise is added) and the clipper gives that row a
    clipping factor of 0, so it contributes nothing.

    Example:
        A user joins a step with all their rows or with none (user 0 owns items 0-2, user 1
        item 3, user 2 items 4-5); ``group`` is the unit the clipper bounds:

        >>> import numpy as np
        >>> from causalrec.privacy import PoissonBatches
        >>> rows = {"user": np.array([0, 0, 0, 1, 2, 2]), "item": np.arange(6)}
        >>> batches = PoissonBatches(lambda epoch: rows, "user", n_users=3, sample_rate=0.5,
        ...                          steps_per_epoch=2)
        >>> [(b["item"].tolist(), b["group"].tolist()) for b in batches]
        [([3, 4, 5], [1, 2, 2]), ([3], [1])]
    """

    def __init__(self, make_epoch, unit: str, n_users: int, sample_rate: float,
                 steps_per_epoch: int, seed: int = 0):
        if unit not in UNITS:
            raise ValueError(f"privacy.unit must be one of {UNITS}, got {unit!r}")
        self.make_epoch, self.unit, self.n_users = make_epoch, unit, int(n_users)
        self.sample_rate, self.steps_per_epoch = float(sample_rate), int(steps_per_epoch)
        self.seed = int(seed)
        self.epoch = 0

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        arrays = self.make_epoch(self.epoch)
        rng = np.random.default_rng([self.seed, self.epoch, 0x5EED])
        self.epoch += 1
        n = len(arrays["user"])
        groups = arrays["user"] if self.unit == "user" else np.arange(n, dtype=np.int64)
        n_units = self.n_users if self.unit == "user" else n
        order, pointer = unit_rows(groups, n_units)
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        group_t = torch.from_numpy(np.ascontiguousarray(groups))
        for _ in range(self.steps_per_epoch):
            rows, _chosen = poisson_rows(rng, order, pointer, self.sample_rate)
            if len(rows) == 0:
                batch = {k: t[:1] for k, t in tensors.items()}
                batch["group"] = torch.full((1,), -1, dtype=torch.long)
            else:
                idx = torch.from_numpy(rows)
                batch = {k: t[idx] for k, t in tensors.items()}
                batch["group"] = group_t[idx]
            yield batch


class PrivateDataModule(L.LightningDataModule):
    """A datamodule whose training batches are Poisson-sampled privacy units.

    Validation and test loaders, and every other attribute (``sampling``, ``train_data``,
    ``n_users`` ...), are the wrapped datamodule's.
    """

    def __init__(self, inner, batches: PoissonBatches):
        super().__init__()
        self.inner = inner
        self.batches = batches

    def __getattr__(self, name):
        if name in ("inner", "batches") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def setup(self, stage: str | None = None) -> None:
        self.inner.setup(stage)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.batches, batch_size=None)

    def val_dataloader(self) -> DataLoader:
        return self.inner.val_dataloader()

    def test_dataloader(self) -> DataLoader:
        return self.inner.test_dataloader()
