"""Seeded, deterministic train/valid/test split protocols (same seed, same split, byte for byte).

Protocols (``make_split(data, protocol=..., seed=..., **options)``):

* ``random`` - RecBole's default (Zhao et al., CIKM 2021): shuffle, group by user, cut each
  user's interactions 8:1:1 with RecBole's ``split_by_ratio`` counting rule.
* ``temporal`` - leave-last-out by timestamp (RecBole's ``LS: valid_and_test`` with ``TO``
  order): each user's latest interaction is the test, the one before it the validation.
* ``random_exposure`` - test on logs of a uniform-random policy (e.g. OBD ``random``, the
  missing-at-random sets of Yahoo!R3/Coat; Schnabel et al., ICML 2016): train on the other
  policies' logs, validate/test on the uniform ones.
* ``intervened`` - RecBole-Debias' intervened protocol on ml-100k (after Bonner & Vasile,
  "Causal Embeddings for Recommendation", RecSys 2018): a normal half and a pool; the pool is
  resampled by inverse item popularity into an intervened set; train = normal + 25% of it,
  validation 25%, test 50%.
* ``cold_start`` - whole items held out: valid/test items never occur in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .schema import RANDOMIZED, DataValidationError, InteractionData


@dataclass(eq=False)
class Split:
    """Three views of one dataset that share its id spaces."""

    train: InteractionData
    valid: InteractionData
    test: InteractionData
    protocol: str = "random"

    def sizes(self) -> dict:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}

    def eval_masks(self, stage: str):
        """``(users, target, exclude)`` for ranking evaluation of one part: the users with at
        least one positive in it (int64), the CSR of its positives (the targets) and the CSR
        of the items to mask (train for ``"valid"``; train + valid for ``"test"``)."""
        if stage not in ("valid", "test"):
            raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")
        cache = self.__dict__.setdefault("_csr", {})
        for part in ("train", "valid", "test"):
            if part not in cache:
                cache[part] = getattr(self, part).csr()
        if "train+valid" not in cache:  # built once: every test pass masks the same items
            cache["train+valid"] = (cache["train"] + cache["valid"]).tocsr()
        target = cache[stage]
        exclude = cache["train"] if stage == "valid" else cache["train+valid"]
        users = np.flatnonzero(np.diff(target.indptr) > 0).astype(np.int64)
        return users, target, exclude


def _normalise(ratios, source: str) -> list[float]:
    ratios = [float(r) for r in ratios]
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise DataValidationError(f"split ratios must be three non-negative numbers, got {ratios}",
                                  source=source)
    tot = sum(ratios)
    return [r / tot for r in ratios]


def _ratio_counts(n: np.ndarray, ratios) -> np.ndarray:
    """Per-group part sizes with RecBole's ``Dataset._calcu_split_ids`` rule, vectorised.

    Every part but the first gets ``int(ratio * n)``, the first takes the rest; then, from
    the last part backwards and while the first part keeps more than one row, a part whose
    ``ratio * n`` lies strictly between 0 and 1 gets one row from the first part.
    Returns an int64 array of shape (len(n), len(ratios)).
    """
    n = np.asarray(n, dtype=np.int64)
    r = np.asarray(ratios, dtype=np.float64)
    exact = n[:, None].astype(np.float64) * r[None, :]
    counts = exact.astype(np.int64)  # int() truncation, as RecBole
    counts[:, 0] = n - counts[:, 1:].sum(axis=1)
    for i in range(1, len(r)):
        ok = counts[:, 0] > 1
        bump = ok & (exact[:, -i] > 0) & (exact[:, -i] < 1)
        counts[bump, -i] += 1
        counts[bump, 0] -= 1
        # RecBole breaks out of the loop once the first part is down to one row
        if not ok.any():
            break
    return counts


def _group_positions(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows sorted by group ``keys``: start of each group, group sizes, row rank in group."""
    n = len(keys)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if n else np.array([], int)
    sizes = np.diff(np.r_[starts, n])
    pos = np.arange(n) - np.repeat(starts, sizes)
    return starts, sizes, pos


def _assemble(data: InteractionData, part: np.ndarray, protocol: str,
              source: InteractionData | None = None) -> Split:
    base = source if source is not None else data
    return Split(train=base.subset(np.flatnonzero(part == 0), name=f"{data.name}/train"),
                 valid=base.subset(np.flatnonzero(part == 1), name=f"{data.name}/valid"),
                 test=base.subset(np.flatnonzero(part == 2), name=f"{data.name}/test"),
                 protocol=protocol)


def random_split(data: InteractionData, ratios=(0.8, 0.1, 0.1), seed: int = 0,
                 group_by_user: bool = True) -> Split:
    """Shuffle interactions (within each user when ``group_by_user``) and cut by ratio.

    The part sizes follow RecBole's ``split_by_ratio`` exactly (see ``_ratio_counts`` in this module);
    the order within a user is a seeded random permutation (RecBole's ``order: RO``).
    """
    r = _normalise(ratios, data.source)
    rng = np.random.default_rng(seed)
    n = len(data.interactions)
    key = rng.random(n)
    if group_by_user:
        users = data.interactions["user"].to_numpy()
        order = np.lexsort((key, users))
        _, sizes, pos = _group_positions(users[order])
    else:
        order = np.argsort(key, kind="stable")
        sizes, pos = np.array([n]), np.arange(n)
    counts = _ratio_counts(sizes, r)
    c0 = np.repeat(counts[:, 0], sizes)
    c1 = np.repeat(counts[:, 1], sizes)
    part_sorted = np.where(pos < c0, 0, np.where(pos < c0 + c1, 1, 2)).astype(np.int8)
    part = np.empty(n, dtype=np.int8)
    part[order] = part_sorted
    return _assemble(data, part, "random")


def temporal_split(data: InteractionData, seed: int = 0, mode: str = "valid_and_test") -> Split:
    """Leave-last-out by time: per user, the latest interaction is the test and the one before
    it the validation (``mode="test_only"``: no validation). Users with too few interactions
    keep at least one in training (RecBole's rule: a user with 2 gives 1 train + 1 test).
    Ties in time keep the table order. ``seed`` is accepted for a uniform signature.
    """
    del seed  # deterministic by construction
    df = data.interactions
    if "timestamp" not in df.columns:
        raise DataValidationError("the temporal protocol needs a 'timestamp' column",
                                  source=data.source, column="timestamp")
    if mode not in ("valid_and_test", "test_only"):
        raise DataValidationError(f"temporal mode must be 'valid_and_test' or 'test_only', got "
                                  f"{mode!r}", source=data.source)
    leave = 2 if mode == "valid_and_test" else 1
    users = df["user"].to_numpy()
    ts = df["timestamp"].to_numpy(np.float64)
    order = np.lexsort((np.arange(len(df)), ts, users))
    _, sizes, pos = _group_positions(users[order])
    n_u = np.repeat(sizes, sizes)
    legal = np.minimum(leave, n_u - 1)
    from_end = n_u - pos  # 1 = the latest
    part_sorted = np.zeros(len(df), dtype=np.int8)
    part_sorted[from_end <= legal] = 1
    part_sorted[(from_end == 1) & (legal >= 1)] = 2
    if leave == 1:
        part_sorted[part_sorted == 1] = 2
    part = np.empty(len(df), dtype=np.int8)
    part[order] = part_sorted
    return _assemble(data, part, "temporal")


def random_exposure_split(data: InteractionData, seed: int = 0, randomized_policy: str = RANDOMIZED,
                          valid_ratio: float = 0.5, train_ratio: float = 0.0) -> Split:
    """Test on uniform-random exposure logs.

    Rows logged by the randomized policy (column ``policy`` == ``randomized_policy``) are shuffled; a ``train_ratio``
    share joins training, the rest is cut ``valid_ratio`` : (1 - ``valid_ratio``) into
    validation and test. Every other row (the biased policies' logs) is training data.
    """
    df = data.interactions
    if "policy" not in df.columns:
        raise DataValidationError("the random_exposure protocol needs a 'policy' column naming "
                                  "the logging policy of each row", source=data.source,
                                  column="policy")
    uniform = (df["policy"].astype(str) == randomized_policy).to_numpy()
    if not uniform.any():
        raise DataValidationError(f"no rows logged by the randomized policy {randomized_policy!r} "
                                  f"(policies: {sorted(df['policy'].astype(str).unique())})",
                                  source=data.source, column="policy")
    if uniform.all() and train_ratio <= 0:
        raise DataValidationError(
            "every row is from the uniform policy, so nothing is left to train on: load the "
            "biased logs too (e.g. load('obd', policy='both')) or set train_ratio > 0",
            source=data.source, column="policy")
    if not (0 <= train_ratio < 1 and 0 < valid_ratio < 1):
        raise DataValidationError(f"need 0 <= train_ratio < 1 and 0 < valid_ratio < 1, got "
                                  f"{train_ratio=}, {valid_ratio=}", source=data.source)
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(uniform)
    idx = idx[rng.permutation(len(idx))]
    rest = 1.0 - train_ratio
    counts = _ratio_counts(np.array([len(idx)]),
                           [train_ratio, rest * valid_ratio, rest * (1 - valid_ratio)])[0]
    part = np.zeros(len(df), dtype=np.int8)
    part[idx[counts[0]:counts[0] + counts[1]]] = 1
    part[idx[counts[0] + counts[1]:]] = 2
    return _assemble(data, part, "random_exposure")


#: the intervened-set size that reproduces RecBole-Debias' ml-100k statistics (74,817 = 50,000
#: normal + 24,817 intervened interactions) as a share of the pool
RECBOLE_DEBIAS_INTERVENED_SHARE = 24_817 / 50_000


def intervened_split(data: InteractionData, seed: int = 0, pool_ratio: float = 0.5,
                     intervened_share: float = RECBOLE_DEBIAS_INTERVENED_SHARE,
                     ratios=(0.25, 0.25, 0.5)) -> Split:
    """RecBole-Debias' "intervened" protocol (details/ml.md of RecBole-Debias; Bonner & Vasile,
    RecSys 2018; Zheng et al., DICE, WWW 2021).

    1. A seeded random ``pool_ratio`` share of the interactions is the candidate pool; the
       rest is the *normal* set.
    2. The pool is resampled by the inverse of relative item popularity: weighted sampling
       without replacement (Efraimidis & Spirakis, 2006) of ``round(intervened_share *
       |pool|)`` rows, row weight ``1 / (pool count of its item)`` - every item carries the
       same total weight, so each item has a near-uniform chance of being observed. These
       rows are the *intervened* set; the rest of the pool is dropped.
    3. train = all normal rows + ``ratios[0]`` of the intervened set, validation
       ``ratios[1]``, test ``ratios[2]`` (RecBole's counting rule over the shuffled set).

    On ml-100k this keeps 50,000 + 24,817 = 74,817 interactions, the total RecBole-Debias
    reports. Every split carries a ``policy`` column: ``"normal"`` or ``"random"`` (the
    intervened set, marked with ``causalrec.data.schema.RANDOMIZED``).
    """
    r = _normalise(ratios, data.source)
    if not (0 < pool_ratio < 1 and 0 < intervened_share <= 1):
        raise DataValidationError(f"need 0 < pool_ratio < 1 and 0 < intervened_share <= 1, got "
                                  f"{pool_ratio=}, {intervened_share=}", source=data.source)
    n = len(data.interactions)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    n_pool = int(round(pool_ratio * n))
    pool, normal = perm[:n_pool], perm[n_pool:]
    items = data.interactions["item"].to_numpy()[pool]
    weight = 1.0 / np.bincount(items, minlength=data.n_items)[items]
    m = int(round(intervened_share * n_pool))
    if m == 0:
        raise DataValidationError("the intervened set would be empty", source=data.source)
    # Efraimidis-Spirakis: the m largest u^(1/w) (as log(u)/w) are a weighted sample w/o repl.
    keys = np.log(rng.random(n_pool)) / weight
    chosen = pool[np.argsort(-keys, kind="stable")[:m]]
    counts = _ratio_counts(np.array([m]), r)[0]
    part = np.full(n, -1, dtype=np.int8)
    part[normal] = 0
    part[chosen[:counts[0]]] = 0
    part[chosen[counts[0]:counts[0] + counts[1]]] = 1
    part[chosen[counts[0] + counts[1]:]] = 2
    policy = np.full(n, "normal", dtype=object)
    policy[chosen] = RANDOMIZED  # the intervened set: the one randomized-row marker
    tagged = data.with_interactions(data.interactions.assign(policy=policy), meta=dict(data.meta))
    return _assemble(data, part, "intervened", source=tagged)


def cold_start_split(data: InteractionData, ratios=(0.8, 0.1, 0.1), seed: int = 0) -> Split:
    """Cold-start items: the items with interactions are shuffled and cut by ``ratios``
    (RecBole's counting rule); all interactions of a validation (test) item are validation
    (test) data, so those items never occur in training."""
    r = _normalise(ratios, data.source)
    items = data.interactions["item"].to_numpy()
    present = np.flatnonzero(np.bincount(items, minlength=data.n_items) > 0)
    rng = np.random.default_rng(seed)
    shuffled = present[rng.permutation(len(present))]
    counts = _ratio_counts(np.array([len(shuffled)]), r)[0]
    item_part = np.zeros(data.n_items, dtype=np.int8)
    item_part[shuffled[counts[0]:counts[0] + counts[1]]] = 1
    item_part[shuffled[counts[0] + counts[1]:]] = 2
    return _assemble(data, item_part[items], "cold_start")


PROTOCOLS = {
    "random": random_split,
    "temporal": temporal_split,
    "random_exposure": random_exposure_split,
    "intervened": intervened_split,
    "cold_start": cold_start_split,
}


def make_split(data: InteractionData, protocol: str = "random", seed: int = 0, **options) -> Split:
    """Split ``data`` with a named protocol (see ``PROTOCOLS``). An option given as ``None``
    is unset (a dataset config that inherits another's split can drop a key with ``null``)."""
    options = {k: v for k, v in options.items() if v is not None}
    try:
        fn = PROTOCOLS[protocol]
    except KeyError:
        raise DataValidationError(
            f"unknown split protocol {protocol!r}; choose one of {sorted(PROTOCOLS)}",
            source=data.source) from None
    try:
        return fn(data, seed=seed, **options)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            raise DataValidationError(f"split protocol {protocol!r}: {e}",
                                      source=data.source) from None
        raise


def split_fingerprint(split: Split) -> str:
    """sha256 over the three parts' interaction tables: equal iff the split is identical."""
    import hashlib

    h = hashlib.sha256(split.protocol.encode())
    for part in (split.train, split.valid, split.test):
        h.update(str(len(part)).encode())
        h.update(pd.util.hash_pandas_object(part.interactions, index=False).to_numpy().tobytes())
    return h.hexdigest()
