"""The Recommender: top-K lists for known users, users known only by text, similar items,
updates without retraining and new items, from a training run or a module in memory.

Scores come from the trained head itself (``full_scores``, or its ``outcome`` / ``effect``
for causal heads), so a list is exactly what the evaluation loop ranks
(:func:`causalrec.evaluation.evaluate`); a Recommender is itself a scorer
(:meth:`Recommender.full_scores`) and can be evaluated. Users updated after training and
users known only by text are scored through the encoders' user overrides
(:meth:`causalrec.encoders.Encoder.override_users`): the head never needs to change.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ..encoders.base import Encoder
from .artefacts import read_inference, seen_matrix
from .topk import FaissIndex, exact_topk, recall_at_k
from .updates import Updates

OBJECTIVES = ("score", "outcome", "uplift")


def top_level_encoders(head) -> list[tuple[str, Encoder]]:
    """The head's encoders that are not part of another encoder (a T-learner has two)."""
    found: list[tuple[str, Encoder]] = []
    for name, mod in head.named_modules():
        if isinstance(mod, Encoder) and not any(name.startswith(f"{n}.") for n, _ in found):
            found.append((name, mod))
    if not found:
        raise ValueError(f"{type(head).__name__} has no causalrec Encoder to score users with")
    return found


class Recommender(Updates):
    """Recommendations from a trained encoder + head.

    Args:
        module: a trained :class:`~causalrec.models.CausalRecModule` (or anything with
            ``.head`` whose encoders are causalrec Encoders).
        train_data: its training InteractionData (id maps, training histories).
        seen: CSR ``[n_users, n_items]`` of items to exclude per user (default: the
            positive training items); :func:`~causalrec.recommend.artefacts.seen_matrix`
            gives train + validation, what the test evaluation masks.
        chunk: users scored at once by the exact top-K.
        fold_in: how ID users are updated: ``method`` ``"auto"`` (default: the closed form
            :class:`~causalrec.recommend.foldin.RidgeFoldIn` for dot-product heads, else
            the gradient :func:`~causalrec.recommend.foldin.fold_in`), ``"ridge"`` or
            ``"gradient"``, plus that method's options.
    """

    def __init__(self, module, train_data, seen=None, chunk: int = 1024,
                 fold_in: dict | None = None):
        self.module = module.eval()
        self.head = module.head
        self.encoders = [enc for _, enc in top_level_encoders(self.head)]
        self.n_users = int(train_data.n_users)
        self.user_ids = np.asarray(train_data.user_ids).astype(str).astype(object)
        self.item_ids = np.asarray(train_data.item_ids).astype(str).astype(object)
        self._user_pos = {u: i for i, u in enumerate(self.user_ids)}
        self._item_pos = {v: i for i, v in enumerate(self.item_ids)}
        seen = train_data.csr() if seen is None else seen.tocsr()
        if seen.shape != (self.n_users, self.n_items):
            raise ValueError(f"seen matrix has shape {seen.shape}, expected "
                             f"({self.n_users}, {self.n_items})")
        self._seen = seen
        self._seen_changed: dict[int, np.ndarray] = {}
        self._train_data = train_data
        self._history: dict[int, list[int]] = {}
        self._rows: dict[int, list[torch.Tensor]] = {}
        self.chunk = int(chunk)
        self.fold_in_options = dict(fold_in or {})
        self.index: FaissIndex | None = None
        from ..heads.base import Head

        #: whether the head scores by a plain dot product ``u @ V.T`` (``V`` computed once)
        self.dot_product = (type(self.head).full_scores is Head.full_scores
                            and len(self.encoders) == 1)
        self._item_matrix: torch.Tensor | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_module(cls, module, train_data, split=None, **kwargs) -> Recommender:
        """From a module in memory; ``split`` (a :class:`~causalrec.data.Split`) makes the
        seen items train + validation, as the test evaluation masks."""
        seen = seen_matrix(split) if split is not None else kwargs.pop("seen", None)
        return cls(module, train_data, seen=seen, **kwargs)

    @classmethod
    def from_run(cls, run_dir: str | os.PathLike, **kwargs) -> Recommender:
        """From a finished training run's ``inference/`` folder and checkpoint; needs no
        dataset, no data files and no text."""
        art = read_inference(run_dir)
        return cls(art["module"], art["train_data"], seen=art["seen"], **kwargs)

    def refresh(self) -> None:
        """Forget the kept item matrix and index (after the module's weights changed)."""
        self._item_matrix, self.index = None, None

    @property
    def n_items(self) -> int:
        return int(self.encoders[0].n_items)

    # ------------------------------------------------------------------ ids and checks
    @staticmethod
    def _index(labels, positions: dict, known: np.ndarray, what: str) -> np.ndarray:
        labels = [labels] if isinstance(labels, (str, int, np.integer)) else list(labels)
        pos = [positions.get(str(x), -1) for x in labels]
        bad = [x for x, p in zip(labels, pos, strict=True) if p < 0]
        if bad:
            raise KeyError(f"unknown {what} ids {bad[:5]} ({len(bad)} of {len(labels)}); known "
                           f"ids look like {list(known[:3])}")
        return np.asarray(pos, dtype=np.int64)

    def user_index(self, users) -> np.ndarray:
        """Indices of raw user ids; unknown ids raise naming them."""
        return self._index(users, self._user_pos, self.user_ids, "user")

    def item_index(self, items) -> np.ndarray:
        """Indices of raw item ids; unknown ids raise naming them."""
        return self._index(items, self._item_pos, self.item_ids, "item")

    def check_k(self, k, n: int | None = None, what: str = "the catalogue size") -> int:
        """``k`` as an int, or an error naming it and the allowed range ``1..n``."""
        n = self.n_items if n is None else n
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 < k <= n:
            raise ValueError(f"k must be an integer in 1..{n} ({what}), got {k!r}")
        return int(k)

    def seen_items(self, users: np.ndarray) -> list[np.ndarray]:
        """Item indices to exclude for each user index (training + validation, updated)."""
        s = self._seen
        return [self._seen_changed[u] if u in self._seen_changed
                else s.indices[s.indptr[u]:s.indptr[u + 1]] for u in np.asarray(users).tolist()]

    # ------------------------------------------------------------------ scoring
    @contextlib.contextmanager
    def _overrides(self, users: torch.Tensor, extra: dict[int, list[torch.Tensor]] | None = None):
        rows = {u: self._rows[u] for u in users.tolist() if u in self._rows}
        rows.update(extra or {})
        with contextlib.ExitStack() as stack:
            if rows:
                keys = torch.tensor(list(rows), dtype=torch.long)
                for e, enc in enumerate(self.encoders):
                    stack.enter_context(enc.override_users(
                        keys, torch.stack([r[e] for r in rows.values()])))
            yield

    def _scores(self, users: torch.Tensor, objective: str = "score",
                extra: dict[int, list[torch.Tensor]] | None = None) -> torch.Tensor:
        from ..heads.pair_mlp import chunked_full

        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
        head = self.head
        with torch.no_grad(), self._overrides(users, extra):
            try:
                if objective == "uplift":
                    if not hasattr(head, "effect"):
                        raise ValueError(f"objective='uplift' needs a head that estimates the "
                                         f"effect of recommending (effect(u, i)); "
                                         f"{type(head).__name__} has none")
                    return chunked_full(head.effect, users, self.n_items)
                if objective == "outcome" and hasattr(head, "outcome"):
                    return chunked_full(lambda u, i: head.outcome(u, i, 1), users, self.n_items)
                if self.dot_product:  # Head.full_scores with the item matrix kept
                    return self.encoders[0].encode_users(users) @ self.item_vectors().T
                return head.full_scores(users)
            except IndexError as exc:
                if extra and int(users.max()) >= self.n_users:
                    raise ValueError(f"{type(head).__name__} keeps per-user parameters of its "
                                     "own and cannot score a user known only by text") from exc
                raise

    def full_scores(self, users: torch.Tensor, objective: str = "score") -> torch.Tensor:
        """Scores ``[len(users), n_items]`` of every item for user *indices* (the evaluation
        scorer protocol), with updates applied; ``objective`` as in :meth:`recommend`."""
        return self._scores(torch.as_tensor(users, dtype=torch.long), objective)

    def topk_indices(self, users: np.ndarray, k: int, exclude_seen: bool = True,
                     allowed: torch.Tensor | None = None, objective: str = "score",
                     approximate: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scores, item indices)`` ``[U, k]`` for user indices; ``approximate`` uses the
        faiss index (:meth:`build_index`)."""
        users = torch.as_tensor(np.asarray(users), dtype=torch.long)
        exclude = self.seen_items if exclude_seen else None
        if approximate:
            if self.index is None:
                raise ValueError("approximate=True needs an index: call build_index() first")
            if objective != "score" or allowed is not None:
                raise ValueError("the faiss index ranks by the dot-product score over the "
                                 "whole catalogue: objective='score', no candidates")
            with torch.no_grad(), self._overrides(users):
                q = self.encoders[0].encode_users(users)
            return self.index.search(q, k, exclude(users.numpy()) if exclude else None)
        return exact_topk(lambda u: self._scores(u, objective), users, k, exclude, allowed,
                          self._chunk())

    def recommend(self, users, k: int = 10, exclude_seen: bool = True, candidates=None,
                  objective: str = "score", approximate: bool = False) -> pd.DataFrame:
        """Top-``k`` items for known users (raw ids).

        Args:
            objective: ``"score"`` (the head's ranking score, what evaluation ranks by),
                ``"outcome"`` (predicted outcome if recommended, ``outcome(u, i, 1)``, for
                heads that model it; the score otherwise) or ``"uplift"`` (the estimated
                effect of recommending, ``effect(u, i)``).
            candidates: raw item ids to rank among (default: the whole catalogue).

        Returns:
            DataFrame ``user, rank, item, score`` (rank 1 = best); a user with fewer than
            ``k`` eligible items gets fewer rows.
        """
        idx = self.user_index(users)
        allowed = None
        if candidates is not None:
            allowed = torch.zeros(self.n_items, dtype=torch.bool)
            allowed[torch.from_numpy(self.item_index(candidates))] = True
        k = self.check_k(k) if candidates is None else self.check_k(
            k, int(allowed.sum()), "the number of distinct candidates")
        scores, items = self.topk_indices(idx, k, exclude_seen, allowed, objective, approximate)
        return self._frame(self.user_ids[idx], scores, items)

    def _frame(self, labels, scores: torch.Tensor, items: torch.Tensor) -> pd.DataFrame:
        s, i = scores.numpy(), items.numpy()
        ok = np.isfinite(s) & (i >= 0)
        k = s.shape[1] if s.ndim == 2 else 0
        return pd.DataFrame({
            "user": np.repeat(_labels(labels), k)[ok.ravel()],
            "rank": np.tile(np.arange(1, k + 1), len(s))[ok.ravel()],
            "item": self.item_ids[i[ok]], "score": s[ok].astype(np.float64)})

    def _chunk(self) -> int:
        """Users per exact-top-K chunk: ``chunk``, fewer when a chunk's score matrix would
        pass 2**25 entries (128 MiB of float32)."""
        return max(1, min(self.chunk, (1 << 25) // max(self.n_items, 1)))

    # ------------------------------------------------------------------ text users
    def text_rows(self, texts: Sequence[str], users: np.ndarray | None = None
                  ) -> list[list[torch.Tensor]]:
        """Per text, one representation per encoder (new users, or the known ``users``)."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        texts = list(texts)
        if not texts:
            raise ValueError("texts is empty: give at least one text")
        for j, t in enumerate(texts):
            if not isinstance(t, str) or not t.strip():
                raise ValueError(f"text {j} is empty or not a string ({t!r}); a user known by "
                                 "text needs some text")
        u = None if users is None else torch.as_tensor(users, dtype=torch.long)
        per_enc = [enc.users_from_text(texts, users=u).float().cpu() for enc in self.encoders]
        return [[rows[j] for rows in per_enc] for j in range(len(texts))]

    def recommend_text(self, texts: Sequence[str], k: int = 10, candidates=None,
                       objective: str = "score", labels: Sequence | None = None
                       ) -> pd.DataFrame:
        """Top-``k`` for users known only by text (``labels`` name them in the ``user``
        column; default ``0..len(texts)-1``). Nothing is excluded: they have no history."""
        k = self.check_k(k)
        rows = self.text_rows(texts)
        virtual = {self.n_users + j: r for j, r in enumerate(rows)}
        users = torch.tensor(list(virtual), dtype=torch.long)
        allowed = None
        if candidates is not None:
            allowed = torch.zeros(self.n_items, dtype=torch.bool)
            allowed[torch.from_numpy(self.item_index(candidates))] = True
            k = self.check_k(k, int(allowed.sum()), "the number of distinct candidates")
        scores, items = exact_topk(lambda u: self._scores(u, objective, virtual), users, k,
                                   None, allowed, self._chunk())
        labels = list(range(len(rows))) if labels is None else list(labels)
        return self._frame(labels, scores, items)

    def user_vectors(self, users) -> torch.Tensor:
        """Representations ``[U, dim]`` of known users under the first encoder (updates
        applied)."""
        idx = torch.from_numpy(self.user_index(users))
        with torch.no_grad(), self._overrides(idx):
            return self.encoders[0].encode_users(idx)

    # ------------------------------------------------------------------ items
    def item_vectors(self) -> torch.Tensor:
        """Item representations ``[n_items, dim]`` under the first encoder (kept)."""
        if self._item_matrix is None:
            with torch.no_grad():
                self._item_matrix = self.encoders[0].all_items().detach()
        return self._item_matrix

    def similar_items(self, items, k: int = 10) -> pd.DataFrame:
        """The ``k`` items most similar to each given item (cosine of item representations
        under the first encoder), the item itself excluded: ``item, rank, similar, score``."""
        idx = self.item_index(items)
        k = self.check_k(k, self.n_items - 1, "the other items of the catalogue")
        vec = torch.nn.functional.normalize(self.item_vectors().float(), dim=-1)
        sims = vec[torch.from_numpy(idx)] @ vec.T
        sims[torch.arange(len(idx)), torch.from_numpy(idx)] = float("-inf")
        top = torch.topk(sims, k, dim=1)
        frame = self._frame(self.item_ids[idx], top.values, top.indices)
        return frame.rename(columns={"user": "item", "item": "similar"})

    # ------------------------------------------------------------------ approximate top-K
    def build_index(self, kind: str = "hnsw", **params) -> FaissIndex:
        """A faiss index over the item vectors (dot-product heads only)."""
        head = type(self.head)
        if not self.dot_product:
            raise ValueError(f"{head.__name__} does not score by a dot product of user and "
                             "item vectors; an approximate index cannot rank for it")
        self.index = FaissIndex(self.item_vectors(), kind=kind, **params)
        return self.index

    def index_recall(self, users, k: int = 10) -> float:
        """Recall@k of the faiss index's lists against the exact ones for ``users``."""
        idx = self.user_index(users)
        exact = self.topk_indices(idx, k)[1]
        return recall_at_k(self.topk_indices(idx, k, approximate=True)[1], exact)


def _labels(labels) -> np.ndarray:
    """Row labels as an array: strings stay objects (as raw ids are), numbers stay numbers."""
    labels = list(labels)
    if all(isinstance(x, str) for x in labels):
        return np.asarray(labels, dtype=object)
    return np.asarray(labels)
