"""CausalRecDataModule: a LightningDataModule over an InteractionData and a split protocol.

Training batches are generated for a whole epoch at once with NumPy (negative sampling is
vectorised, never a Python loop per interaction) and served as contiguous slices. Evaluation
batches are users with dense masks of the items to exclude (already seen) and the targets
(full ranking, as RecBole's ``full`` evaluation mode).

Pairwise batches are the (user, positive, sampled negative) triples of BPR (Rendle et al.,
"BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009); the popularity
sampler draws negatives in proportion to training counts (as RecBole's ``popularity``
distribution). Pointwise batches are positives plus ``negatives`` sampled zeros per
positive, or the logged 0/1 labels of explicit feedback (OBD clicks) with ``negatives=0``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset

from .pairs import member, pair_keys, sorted_unique
from .schema import DataValidationError, InteractionData
from .splits import Split, make_split
from .text_views import TextTemplates, build_text_views, user_texts


def _positive_keys(data: InteractionData) -> np.ndarray:
    pos = data.positives()
    return sorted_unique(pair_keys(pos["user"].to_numpy(), pos["item"].to_numpy(), data.n_items))


def sample_negatives(rng: np.random.Generator, users: np.ndarray, n_items: int,
                     positive_keys: np.ndarray, probs: np.ndarray | None = None,
                     max_rounds: int = 20) -> np.ndarray:
    """One negative item per row of ``users``, never one of that user's positives.

    Vectorised rejection: draw for every row (uniform, or from ``probs``), redraw the rows
    that hit a positive (``positive_keys``: sorted ``user * n_items + item``), ``max_rounds``
    times. Rows still on a positive after that (users who hold most of the probability mass,
    e.g. under popularity sampling) get an exact draw from their complement, so the result
    is always a true negative; a user with every item positive is an error.
    """
    def draw(k: int) -> np.ndarray:
        if probs is None:
            return rng.integers(0, n_items, size=k)
        return rng.choice(n_items, size=k, p=probs)

    users = np.asarray(users, dtype=np.int64)
    neg = draw(len(users))
    todo = np.arange(len(users))
    for _ in range(max_rounds + 1):
        if len(todo) == 0 or len(positive_keys) == 0:
            return neg
        hit = member(positive_keys, pair_keys(users[todo], neg[todo], n_items))
        todo = todo[hit]
        if len(todo) == 0:
            return neg
        neg[todo] = draw(len(todo))
    hit = member(positive_keys, pair_keys(users[todo], neg[todo], n_items))
    for row in todo[hit]:  # rare leftovers: exact draw from the complement
        u = users[row]
        lo, hi = np.searchsorted(positive_keys, [u * n_items, (u + 1) * n_items])
        allowed = np.setdiff1d(np.arange(n_items), positive_keys[lo:hi] - u * n_items)
        if len(allowed) == 0:
            raise DataValidationError(f"user {u} has every item as a positive: no negative "
                                      "item to sample", column="item")
        if probs is None:
            neg[row] = rng.choice(allowed)
        else:
            w = probs[allowed]
            neg[row] = rng.choice(allowed, p=w / w.sum()) if w.sum() > 0 else rng.choice(allowed)
    return neg


def _process_shard() -> tuple[int, int]:
    """(rank, world size) of this process in a distributed (DDP) run, else (0, 1)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _EpochBatches(IterableDataset):
    """Re-samples an epoch of training tensors on every iteration and yields slices.

    Under DDP every process samples the same epoch (same seed) and takes every
    ``world``-th batch starting at its rank; all processes take the same number of batches
    (the last ``< world`` batches are dropped), so with gradient averaging one step over
    ``world`` processes equals one single-process step on their union.
    """

    def __init__(self, make_epoch: Callable[[int], dict[str, np.ndarray]], batch_size: int):
        self.make_epoch = make_epoch
        self.batch_size = batch_size
        self.epoch = 0

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        arrays = self.make_epoch(self.epoch)
        self.epoch += 1
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        n = len(next(iter(tensors.values())))
        starts = list(range(0, n, self.batch_size))
        rank, world = _process_shard()
        if world > 1:
            starts = starts[:len(starts) - len(starts) % world][rank::world]
        for start in starts:
            yield {k: t[start:start + self.batch_size] for k, t in tensors.items()}

    def __len__(self) -> int:  # batches per epoch are not known before sampling
        raise TypeError("epoch length varies")


class _EvalBatches(IterableDataset):
    def __init__(self, users: np.ndarray, exclude, target, batch_size: int):
        self.users, self.exclude, self.target, self.batch_size = users, exclude, target, batch_size

    def __iter__(self):
        rank, world = _process_shard()
        users = self.users[rank::world]  # DDP: each process evaluates its share of users
        for start in range(0, len(users), self.batch_size):
            u = users[start:start + self.batch_size]
            yield {
                "user": torch.from_numpy(u),
                "exclude": torch.from_numpy(self.exclude[u].toarray().astype(bool)),
                "target": torch.from_numpy(self.target[u].toarray().astype(bool)),
            }


class CausalRecDataModule(L.LightningDataModule):
    """Data for one study.

    Args:
        source: an :class:`InteractionData` (Hydra instantiates it from ``dataset.source``).
        split: options for :func:`causalrec.data.splits.make_split` (``protocol`` + its options).
        sampling: ``"auto"`` (pointwise here; the study's head decides through
            :func:`causalrec.models.build_datamodule`), ``"pointwise"`` (positives + ``negatives`` sampled zeros per positive, or the
            logged labels when the data has explicit 0/1 labels and ``negatives=0``) or
            ``"pairwise"`` (BPR triples user, item, neg_item).
        negative_sampler: ``"uniform"`` or ``"popularity"`` (proportional to train counts).
        text: text-view templates (see :class:`causalrec.data.text_views.TextTemplates`);
            when given, ``train_data`` carries ``user_text`` (from the training split only)
            and ``item_text`` rendered with them, and ``meta["text_template_version"]``.
            When omitted, a source's own templates (``meta["text_templates"]``) are used, or
            its own texts kept; a source with item text but no user text gets user text
            from the default template. Text views are built after the split, from the
            training rows only (histories and reviews).
        train_rows: ``"all"`` logged rows, ``"exposed"`` rows only, or ``"auto"`` (exposed
            when the data has an ``exposure`` column, else all): (Schnabel et al. 2016:
            the outcome of an item is observed only when it was exposed, and IPS-family heads
            weight those rows by 1/P(exposed)). Uplift heads need ``"all"``: exposure is
            their treatment.

    Training batches carry ``user``, ``item`` and either ``label`` (pointwise) or
    ``neg_item`` (pairwise), plus the logged ``propensity`` / ``exposure`` of each row when
    the data has them (for sampled negatives: ``exposure`` = whether the pair was logged at
    all; ``propensity`` is only passed when every row of the batch has a logged one).
    """

    def __init__(self, source: InteractionData, split: dict | None = None, batch_size: int = 2048,
                 eval_batch_size: int = 512, sampling: str = "pointwise", negatives: int = 1,
                 negative_sampler: str = "uniform", seed: int = 0, name: str | None = None,
                 text: dict | None = None, train_rows: str = "all"):
        super().__init__()
        if not isinstance(source, InteractionData):
            raise DataValidationError(
                f"dataset.source must build an InteractionData, got {type(source).__name__}")
        if train_rows not in ("all", "exposed", "auto"):
            raise ValueError(f"dataset.train_rows must be 'all', 'exposed' or 'auto', got "
                             f"{train_rows!r}")
        if train_rows == "auto":  # outcomes are observed where the item was shown
            train_rows = "exposed" if "exposure" in source.interactions.columns else "all"
        self.train_rows = train_rows
        if sampling == "auto":  # no head to ask (models.build.build_datamodule resolves it)
            sampling = "pointwise"
        if sampling not in ("pointwise", "pairwise"):
            raise ValueError(f"dataset.sampling must be 'pointwise' or 'pairwise', got {sampling!r}")
        if negative_sampler not in ("uniform", "popularity"):
            raise ValueError("dataset.negative_sampler must be 'uniform' or 'popularity', "
                             f"got {negative_sampler!r}")
        self.data = source
        self.split_options = dict(split or {"protocol": "random"})
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(eval_batch_size)
        self.sampling = sampling
        self.negatives = int(negatives)
        self.negative_sampler = negative_sampler
        self.seed = int(seed)
        self.name = name or source.name
        self.text = None if text is None else TextTemplates.from_config(
            dict(text) if not isinstance(text, TextTemplates) else text)
        self.split: Split | None = None
        self._train_batches: _EpochBatches | None = None

    # ---------------------------------------------------------------- setup
    def setup(self, stage: str | None = None) -> None:
        if self.split is not None:
            return
        opts = dict(self.split_options)
        protocol = opts.pop("protocol", "random")
        self.split = make_split(self.data, protocol=protocol, seed=self.seed, **opts)
        self._attach_text()
        tr = self.split.train
        self._train_pos_keys = _positive_keys(tr)
        pop = tr.item_popularity().astype(np.float64)
        self._pop_probs = (pop + 1e-12) / (pop + 1e-12).sum()
        df = tr.interactions
        self._train_logged_keys = sorted_unique(pair_keys(df["user"].to_numpy(),
                                                          df["item"].to_numpy(), self.n_items))

    def _attach_text(self) -> None:
        """User text from the training split only; item text from the templates (its
        ``{reviews}`` from training rows only too). Without ``text``, a source that carries
        its own templates (``meta["text_templates"]``, e.g. from ``from_frame``) uses them."""
        tr = self.split.train
        text = self.text
        if text is None and tr.meta.get("text_templates") is not None:
            text = TextTemplates.from_config(tr.meta["text_templates"])
        if text is not None:
            tr.user_text, tr.item_text = build_text_views(tr, text)
            tr.meta["text_template_version"] = text.version()
        elif tr.user_text is None and tr.item_text is not None:  # a text-capable source
            default = TextTemplates()
            tr.user_text = user_texts(tr, default)
            tr.meta.setdefault("text_template_version", default.version())

    @property
    def n_users(self) -> int:
        return self.data.n_users

    @property
    def n_items(self) -> int:
        return self.data.n_items

    @property
    def train_data(self) -> InteractionData:
        self.setup()
        return self.split.train

    # ---------------------------------------------------------------- training batches
    def _epoch_arrays(self, epoch: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, epoch])
        tr = self.split.train.interactions
        probs = self._pop_probs if self.negative_sampler == "popularity" else None
        if self.train_rows == "exposed":
            # Schnabel et al. 2016: learn from the observed (exposed) rows only, each weighted
            # by 1/P(exposed) in the IPS-family heads
            if "exposure" not in tr.columns:
                raise DataValidationError("dataset.train_rows=exposed needs an 'exposure' column",
                                          source=self.data.source, column="exposure")
            tr = tr[tr["exposure"].to_numpy() > 0]
        explicit = self.split.train.target_column == "label" and (tr["label"] == 0).any()
        if explicit and self.negatives == 0 and self.sampling == "pointwise":
            out = {"user": tr["user"].to_numpy(np.int64), "item": tr["item"].to_numpy(np.int64),
                   "label": tr["label"].to_numpy(np.float32)}
            for col in ("propensity", "exposure"):
                if col in tr.columns:
                    out[col] = tr[col].to_numpy(np.float32)
        else:
            if self.split.train.target_column == "label":
                tr = tr[tr["label"] > 0]  # (exposed rows may be a subset: not positives())
            users = tr["user"].to_numpy(np.int64)
            items = tr["item"].to_numpy(np.int64)
            if self.sampling == "pairwise":
                neg = sample_negatives(rng, users, self.n_items, self._train_pos_keys, probs)
                out = {"user": users, "item": items, "neg_item": neg}
                for col in ("propensity", "exposure"):
                    if col in tr.columns:
                        out[col] = tr[col].to_numpy(np.float32)
            else:
                k = max(self.negatives, 0)
                nu = np.repeat(users, k)
                neg = sample_negatives(rng, nu, self.n_items, self._train_pos_keys, probs)
                out = {"user": np.r_[users, nu], "item": np.r_[items, neg],
                       "label": np.r_[np.ones(len(users)), np.zeros(len(nu))].astype(np.float32)}
                if "exposure" in tr.columns:
                    keys = pair_keys(nu, neg, self.n_items)
                    logged = member(self._train_logged_keys, keys)
                    out["exposure"] = np.r_[tr["exposure"].to_numpy(np.float32),
                                            logged.astype(np.float32)]
                if "propensity" in tr.columns and k == 0:
                    out["propensity"] = tr["propensity"].to_numpy(np.float32)
        perm = rng.permutation(len(out["user"]))
        return {k: v[perm] for k, v in out.items()}

    def train_dataloader(self) -> DataLoader:
        self.setup()
        if self._train_batches is None:  # one epoch counter per datamodule: every epoch
            self._train_batches = _EpochBatches(self._epoch_arrays, self.batch_size)  # resamples
        return DataLoader(self._train_batches, batch_size=None)

    # ---------------------------------------------------------------- evaluation batches
    def _eval_loader(self, stage: str) -> DataLoader:
        users, target, exclude = self.split.eval_masks(stage)  # the one evaluation protocol
        return DataLoader(_EvalBatches(users, exclude, target, self.eval_batch_size),
                          batch_size=None)

    def val_dataloader(self) -> DataLoader:
        self.setup()
        return self._eval_loader("valid")

    def test_dataloader(self) -> DataLoader:
        self.setup()
        return self._eval_loader("test")
