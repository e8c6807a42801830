"""Top-K over a catalogue: exact (chunked full scoring + ``torch.topk``) and approximate
(a faiss index over item vectors, for dot-product scorers and large catalogues).

The exact path masks already-seen items with ``-inf`` exactly as the evaluation loop does
(:func:`causalrec.evaluation.ranking.topk_hits`), so its lists are the evaluated ones. The
approximate path asks the index for ``k`` plus the most items any user of the batch has
seen, drops the seen ones and keeps the best ``k``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def mask_rows(scores: torch.Tensor, rows: Sequence[np.ndarray],
              inplace: bool = False) -> torch.Tensor:
    """``scores`` [B, n] with ``rows[b]`` (item indices) set to ``-inf`` in row b."""
    lengths = [len(r) for r in rows]
    if not sum(lengths):
        return scores
    r = torch.from_numpy(np.repeat(np.arange(len(rows)), lengths))
    c = torch.from_numpy(np.concatenate([np.asarray(x, dtype=np.int64) for x in rows]))
    if not inplace:
        scores = scores.clone()
    scores[r.to(scores.device), c.to(scores.device)] = float("-inf")
    return scores


def block_topk(scores: torch.Tensor, k: int, block: int = 64
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``torch.topk(scores, k, dim=1)`` (values and indices, sorted) by block maxima.

    The ``k`` best items of a row lie in the ``k`` blocks of ``block`` columns with the
    largest maxima (any other block's items have ``k`` larger items above them), so one
    vectorised max per block and a top-k over ``k * block`` candidates replace a top-k over
    the whole row. The values are exactly ``torch.topk``'s; only the order among tied
    values can differ. Small rows go straight to ``torch.topk``.
    """
    b, n = scores.shape
    n_blocks = n // block
    if n_blocks < 4 * k or scores.device.type != "cpu":
        top = torch.topk(scores, k, dim=1)
        return top.values, top.indices
    main = scores[:, :n_blocks * block].reshape(b, n_blocks, block)
    maxima = main.amax(dim=2)
    if n_blocks * block < n:  # the ragged tail is one more candidate block
        tail = scores[:, n_blocks * block:]
        maxima = torch.cat([maxima, tail.amax(dim=1, keepdim=True)], dim=1)
    best = torch.topk(maxima, k, dim=1).indices  # [b, k] block ids
    cols = (best.unsqueeze(-1) * block + torch.arange(block)).reshape(b, -1)  # [b, k*block]
    cols = cols.clamp(max=n - 1)  # tail block: positions past the end repeat the last column
    cand = scores.gather(1, cols)
    last = best == n_blocks  # in the tail block, columns past n are duplicates: drop them
    if bool(last.any()):
        over = (best.unsqueeze(-1) * block + torch.arange(block)).reshape(b, -1) >= n
        cand = cand.masked_fill(over, float("-inf"))
    top = torch.topk(cand, k, dim=1)
    return top.values, cols.gather(1, top.indices)


def exact_topk(score_fn: Callable[[torch.Tensor], torch.Tensor], users: torch.Tensor, k: int,
               exclude: Callable[[np.ndarray], list[np.ndarray]] | None = None,
               allowed: torch.Tensor | None = None, chunk: int = 1024
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-``k`` for ``users``, ``chunk`` users at a time.

    Args:
        score_fn: ``users -> scores [len(users), n_items]``.
        exclude: ``user indices -> list of item-index arrays`` to mask per user.
        allowed: optional boolean ``[n_items]``: items outside it are never returned.

    Returns:
        ``(scores [U, k], items [U, k])``; masked positions (a user with fewer than ``k``
        eligible items) have score ``-inf``.
    """
    out_s, out_i = [], []
    for start in range(0, len(users), chunk):
        u = users[start:start + chunk]
        scores = score_fn(u).float()
        if allowed is not None:
            scores = scores.masked_fill(~allowed.to(scores.device), float("-inf"))
        if exclude is not None:  # in place when the scores are a fresh tensor of their own
            scores = mask_rows(scores, exclude(u.cpu().numpy()), inplace=scores._base is None)
        values, indices = block_topk(scores, min(k, scores.shape[1]))
        out_s.append(values)
        out_i.append(indices)
    if not out_s:
        return torch.zeros((0, k)), torch.zeros((0, k), dtype=torch.long)
    return torch.cat(out_s), torch.cat(out_i)


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is installed in the dev env
        raise ImportError("approximate top-K needs faiss: pip install 'causalrec[ann]' "
                          "(faiss-cpu)") from exc
    return faiss


class FaissIndex:
    """Maximum-inner-product search over item vectors with faiss (Johnson, Douze and
    Jegou 2019, "Billion-scale similarity search with GPUs").

    Args:
        items: item vectors ``[n_items, d]``.
        kind: ``"hnsw"`` (graph index, Malkov and Yashunin 2018; ``m`` links per node,
            ``ef_search`` candidates per query), ``"ivf"`` (inverted lists over ``nlist``
            k-means cells, ``nprobe`` cells searched) or ``"flat"`` (exhaustive, exact).
        threads: faiss threads (``None``: faiss's default).
    """

    KINDS = ("hnsw", "ivf", "flat")

    def __init__(self, items: torch.Tensor | np.ndarray, kind: str = "hnsw", m: int = 32,
                 ef_construction: int = 80, ef_search: int = 128, nlist: int | None = None,
                 nprobe: int = 16, threads: int | None = None, seed: int = 0):
        faiss = _faiss()
        if kind not in self.KINDS:
            raise ValueError(f"faiss index kind must be one of {self.KINDS}, got {kind!r}")
        if threads is not None:
            faiss.omp_set_num_threads(int(threads))
        x = np.ascontiguousarray(torch.as_tensor(items).detach().cpu().float().numpy())
        n, d = x.shape
        self.kind, self.n_items = kind, n
        ip = faiss.METRIC_INNER_PRODUCT
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, int(m), ip)
            index.hnsw.efConstruction = int(ef_construction)
            index.hnsw.efSearch = int(ef_search)
        else:
            nlist = int(nlist or max(1, min(4 * int(np.sqrt(n)), n // 39)))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, ip)
            index.cp.seed = int(seed)
            index.train(x)
            index.nprobe = int(nprobe)
        index.add(x)
        self.index = index

    def search(self, queries: torch.Tensor | np.ndarray, k: int,
               exclude: list[np.ndarray] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scores [B, k], items [B, k])`` of the (approximately) best ``k`` items per
        query, never an item in ``exclude[b]``; missing results are ``-inf`` / ``-1``."""
        q = np.ascontiguousarray(torch.as_tensor(queries).detach().cpu().float().numpy())
        extra = max((len(e) for e in exclude), default=0) if exclude is not None else 0
        want = min(k + extra, self.n_items)
        ef = self.index.hnsw.efSearch if self.kind == "hnsw" else None
        if ef is not None:
            self.index.hnsw.efSearch = max(ef, want)
        try:
            scores, items = self.index.search(q, want)
        finally:
            if ef is not None:
                self.index.hnsw.efSearch = ef
        if exclude is not None and extra:  # drop seen items, keep the best k (vectorised)
            n = np.int64(self.n_items)
            seen_keys = np.concatenate([b * n + np.asarray(e, dtype=np.int64)
                                        for b, e in enumerate(exclude)])
            keys = np.arange(len(q), dtype=np.int64)[:, None] * n + items
            keep = (items >= 0) & ~np.isin(keys, seen_keys)
            order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
            kept = np.take_along_axis(keep, order, axis=1)
            scores = np.where(kept, np.take_along_axis(scores, order, axis=1), -np.inf)
            items = np.where(kept, np.take_along_axis(items, order, axis=1), -1)
            scores, items = scores.astype(np.float32), items.astype(np.int64)
        else:
            scores, items = scores[:, :k], items[:, :k].astype(np.int64)
            scores = np.where(items >= 0, scores, -np.inf).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(scores)), torch.from_numpy(
            np.ascontiguousarray(items))


def recall_at_k(approx: torch.Tensor, exact: torch.Tensor) -> float:
    """Mean share of each row's exact top-k items that the approximate row also holds.

    Example:
        >>> import torch
        >>> from causalrec.recommend import recall_at_k
        >>> recall_at_k(torch.tensor([[4, 3, 9], [5, 6, 7]]), torch.tensor([[1, 3, 4], [5, 6, 7]]))
        0.8333333333333333
    """
    hits = [len(set(a.tolist()) & set(e.tolist()) - {-1}) / max(len(set(e.tolist())), 1)
            for a, e in zip(approx, exact, strict=True)]
    return float(np.mean(hits)) if hits else float("nan")
