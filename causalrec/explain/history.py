"""Counterfactual history explanations: the smallest set of a user's own training
interactions whose removal drops a recommended item out of the user's top-K.

After CountER (Tan et al. 2021, "Counterfactual explainable recommendation", CIKM) and
PRINCE (Ghazimatin et al. 2020, "PRINCE: provider-side interpretability with counterfactual
explanations in recommender systems", WSDM), on the user's history instead of item aspects:

1. **Order** the history by a first-order estimate of each item's support for the target
   ``i`` over the item that would replace it (``c``, the first item outside the top-K):
   a fold-in moves the user's vector towards the remaining positives, so removing ``h``
   costs the margin ``s(u, i) - s(u, c)`` about ``q_h . (q_i - q_c)`` (item vectors of the
   recommender's encoder).
2. **Search** the shortest prefix of that order whose removal drops ``i`` out of the top-K,
   by doubling then bisection; then **prune** it item by item to an irreducible set. Both
   orders (``"support"``, ``"similarity"``) are searched. With ``sufficient=True``
   (default) the search seeks, as CountER, a set that is also *sufficient*: a user who has
   only its items still gets ``i`` in the top-K. Per order it takes the shortest prefix that
   is both (and grows the necessary set by the most similar items when no prefix is),
   pruned keeping both; such a set wins over a smaller merely necessary one.
3. Every probe is **actual re-scoring**: the Recommender's own update (by default the
   closed-form fold-in for dot-product ID heads, :class:`~causalrec.recommend.foldin.
   RidgeFoldIn`; the gradient fold-in for other heads; a recomputed representation for
   history users) with the items removed, a full scoring of the catalogue with the user's
   original seen items masked, and a reset. Sufficiency is scored for a *new* user whose
   whole history is the set (:meth:`~causalrec.recommend.Recommender.history_scores`:
   folded in from the population mean), never from the trained vector, which still
   encodes every removed item (from it, keeping two items of fifty looks sufficient
   because nothing changed). With the closed form the probes are batched (every prefix of
   an order at once, one ``dim x dim`` solve each) and the chosen set is verified once
   more through ``update`` / ``history_scores`` and ``full_scores``.

:func:`nearest_neighbour_explanation` is the "because you liked" baseline: the history items
whose vectors are closest (cosine) to the target. :func:`necessity` and :func:`sufficiency`
are CountER's fidelity probes of any explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .search import PrefixSearch


class ExplanationError(ValueError):
    """Bad input to an explanation: unknown user or item, or an item not in the top-K."""


@dataclass
class HistoryExplanation:
    """A counterfactual history explanation of ``item`` for ``user``.

    ``items``/``indices``: the removed training interactions (raw ids / indices); ``found``:
    whether some set of at most ``max_size`` items drops the item; ``rank_before`` and
    ``rank_after``: the item's rank (1 = best, seen items masked) before and after the
    removal; ``probes``: re-scorings done."""

    user: str
    item: str
    k: int
    indices: list = field(default_factory=list)
    items: list = field(default_factory=list)
    found: bool = False
    rank_before: int = 0
    rank_after: int | None = None
    probes: int = 0
    sufficient: bool | None = None

    @property
    def size(self) -> int | None:
        return len(self.indices) if self.found else None

    def __str__(self) -> str:
        if not self.found:
            return (f"no set of the user's interactions (up to the searched size) drops item "
                    f"{self.item} from the top-{self.k}")
        alone = {True: "; a new user with only these gets it in the top-{k} too",
                 False: "; they alone would not get it into the top-{k}"}.get(self.sufficient, "")
        return (f"without {self.items} ({self.size} interaction(s)) item {self.item} falls "
                f"from rank {self.rank_before} to {self.rank_after} (top-{self.k})"
                + alone.format(k=self.k))


class Prober:
    """Re-scores one user's ranking with some of their training items removed."""

    def __init__(self, rec, user, seed: int = 0) -> None:
        try:
            self.u = int(rec.user_index([user])[0])
        except KeyError as exc:
            raise ExplanationError(str(exc.args[0])) from None
        self.rec, self.user, self.seed = rec, user, seed
        self.history = np.asarray(rec.history(self.u), dtype=np.int64)
        self.seen = np.asarray(rec.seen_items([self.u])[0], dtype=np.int64)
        self.probes = 0
        ridge = getattr(rec, "ridge_fold_in", None)
        self.ridge = ridge(self.u) if ridge is not None else None
        self.fresh = ridge(self.u, fresh=True) if self.ridge is not None else None

    def _rank_rows(self, rows: torch.Tensor, item: int) -> np.ndarray:
        """Ranks of ``item`` (1 = best, original seen items masked) under user vectors
        ``rows`` ``[P, dim]`` of a dot-product head."""
        self.probes += len(rows)
        s = rows @ self.rec.item_vectors().detach().float().T
        s[:, torch.from_numpy(self.seen)] = float("-inf")
        return ((s > s[:, item:item + 1]).sum(1) + 1).numpy()

    def prefix_ranks(self, order: np.ndarray, limit: int, item: int) -> np.ndarray | None:
        """Ranks of ``item`` without ``order[:m]`` for m = 1..limit in one batch (the
        closed-form fold-in), or None without it."""
        if self.ridge is None:
            return None
        return self._rank_rows(self.ridge.without_prefixes(order, limit), item)

    def prefix_ranks_only(self, order: np.ndarray, limit: int, item: int) -> np.ndarray | None:
        """Ranks of ``item`` for a user who has only ``order[:m]``, m = 1..limit, in one
        batch (the closed-form fold-in from the population mean), or None without it."""
        if self.fresh is None:
            return None
        return self._rank_rows(self.fresh.with_prefixes(order, limit), item)

    def scores(self, remove: np.ndarray | None = None) -> torch.Tensor:
        """The user's scores over the catalogue (original seen items at -inf) after
        removing ``remove`` (history indices) through the Recommender's update."""
        rec = self.rec
        if remove is not None and len(remove):
            self.probes += 1
            rec.update(self.user, remove_items=list(rec.item_ids[np.asarray(remove)]),
                       seed=self.seed)
        try:
            s = rec.full_scores(torch.tensor([self.u]))[0].detach().clone().float()
        finally:
            if remove is not None and len(remove):
                rec.reset(self.user)
        s[torch.from_numpy(self.seen)] = float("-inf")
        return s

    @staticmethod
    def rank(scores: torch.Tensor, item: int) -> int:
        return int((scores > scores[item]).sum()) + 1

    def rank_without(self, remove, item: int, verify: bool = False) -> int:
        """The item's rank without ``remove``; the closed-form fold-in when there is one
        unless ``verify`` (then through the Recommender's ``update``)."""
        remove = np.asarray(remove, dtype=np.int64)
        if self.ridge is not None and not verify and len(remove):
            return int(self._rank_rows(self.ridge.without([remove]), item)[0])
        return self.rank(self.scores(remove), item)

    def rank_with_only(self, keep, item: int, verify: bool = False) -> int:
        """The item's rank for a user whose whole history is ``keep`` (CountER's "only the
        explanation exists"): a new user folded in from the population mean, not the
        trained vector, which still encodes the removed items
        (:meth:`~causalrec.recommend.Recommender.history_scores`); the closed form when
        there is one unless ``verify``."""
        keep = np.asarray(keep, dtype=np.int64)
        if self.fresh is not None and not verify:
            return int(self._rank_rows(self.fresh.solve(keep).unsqueeze(0), item)[0])
        self.probes += 1
        s = self.rec.history_scores(self.user, keep, seed=self.seed).detach().clone().float()
        s[torch.from_numpy(self.seen)] = float("-inf")
        return self.rank(s, item)


def check_item_in_topk(prober: Prober, item, k: int) -> tuple[int, torch.Tensor, int]:
    """``(item index, scores, rank)``; raises :class:`ExplanationError` for an unknown item or
    one outside the user's top-``k``."""
    rec = prober.rec
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 < k < rec.n_items:
        raise ExplanationError(f"k must be an integer in 1..{rec.n_items - 1}, got {k!r}")
    try:
        i = int(rec.item_index([item])[0])
    except KeyError as exc:
        raise ExplanationError(str(exc.args[0])) from None
    scores = prober.scores()
    if i in set(prober.seen.tolist()):
        raise ExplanationError(f"item {item!r} is already in user {prober.user!r}'s training "
                               f"history, so it is never recommended to them")
    rank = prober.rank(scores, i)
    if rank > k:
        raise ExplanationError(f"item {item!r} is not in user {prober.user!r}'s top-{k} (its "
                               f"rank is {rank}); explain one of the recommended items")
    return i, scores, rank


def support_order(rec, history: np.ndarray, item: int, scores: torch.Tensor,
                  k: int) -> np.ndarray:
    """History items by decreasing first-order support of ``item`` over the item ranked
    ``k + 1`` (see the module docstring)."""
    q = rec.item_vectors().detach().float()
    competitor = int(torch.topk(scores, k + 1).indices[-1])
    support = q[torch.from_numpy(history)] @ (q[item] - q[competitor])
    return history[np.argsort(-support.numpy(), kind="stable")]


ORDERS = ("support", "similarity")


def similarity_order(rec, history: np.ndarray, item: int) -> np.ndarray:
    """History items by decreasing cosine similarity to ``item`` (the "because you liked"
    order)."""
    q = torch.nn.functional.normalize(rec.item_vectors().detach().float(), dim=-1)
    sims = (q[torch.from_numpy(history)] @ q[item]).numpy()
    return history[np.argsort(-sims, kind="stable")]


def counterfactual_history(rec, user, item, k: int = 10, *, max_size: int | None = None,
                           prune: bool | int = 16, orders: tuple = ORDERS,
                           sufficient: bool = True, seed: int = 0,
                           prober: Prober | None = None) -> HistoryExplanation:
    """The smallest (irreducible) set of ``user``'s training interactions whose removal
    drops ``item`` out of the top-``k`` (module docstring).

    Args:
        max_size: the largest set tried (default: the whole history).
        prune: prune found sets of at most this many items to irreducible ones (one probe
            per item; ``True``: any size, ``False``: none); larger sets stay the shortest
            dropping prefix of the order.
        orders: candidate orders searched (``"support"``, ``"similarity"``); the smallest
            set over all of them wins (ties: the first order).
        sufficient: seek, as CountER, a set that is both necessary (its removal drops the
            item) and sufficient (a user who has only its items gets the item in the
            top-``k``): per order the shortest prefix that is both, pruned keeping both;
            such a set wins over a smaller merely necessary one, which is returned when no
            order has one (``sufficient`` then False).

    Raises:
        ExplanationError: unknown user or item, or an item outside the top-``k``.
    """
    prober = prober or Prober(rec, user, seed)
    i, scores, rank = check_item_in_topk(prober, item, k)
    bad = [o for o in orders if o not in ORDERS]
    if bad or not orders:
        raise ValueError(f"orders must be a non-empty tuple of {ORDERS}, got {orders!r}")
    out = HistoryExplanation(str(user), str(item), int(k), rank_before=rank)
    history = prober.history
    best = None
    if len(history):
        for name in orders:
            order = (support_order(rec, history, i, scores, k) if name == "support"
                     else similarity_order(rec, history, i))
            search = PrefixSearch(prober, order, i, k, max_size, prune)
            necessary = search.necessary()
            candidates = [necessary, search.both() if sufficient else None]
            if sufficient and necessary is not None and candidates[1] is None:
                # no prefix is both: grow the necessary set by the most similar items
                candidates.append(search.grown(necessary[0], similarity_order(rec, history, i)))
            for found in candidates:
                if found is None:
                    continue
                chosen, rank_after, suff = found
                key = (not suff, len(chosen))
                if best is None or key < best[0]:
                    best = (key, chosen, rank_after, suff)
    if best is not None:
        _, chosen, rank_after, suff = best
        if prober.ridge is not None:  # verified by actual re-scoring through update()
            rank_after = prober.rank_without(chosen, i, verify=True)
            if rank_after <= k:
                raise RuntimeError(f"closed-form probe and update() disagree for user "
                                   f"{user!r}, item {item!r}: rank {rank_after} <= {k}")
            if sufficient:
                suff = prober.rank_with_only(chosen, i, verify=True) <= k
        out.indices = [int(c) for c in chosen]
        out.items = [str(rec.item_ids[c]) for c in chosen]
        out.found, out.rank_after = True, int(rank_after)
        out.sufficient = bool(suff) if sufficient else None
    out.probes = prober.probes
    return out


def nearest_neighbour_explanation(rec, user, item, size: int = 1) -> list[int]:
    """The "because you liked" baseline: the ``size`` history items (indices) whose item
    vectors are most cosine-similar to ``item``'s."""
    u = int(rec.user_index([user])[0])
    i = int(rec.item_index([item])[0])
    history = np.asarray(rec.history(u), dtype=np.int64)
    return similarity_order(rec, history, i)[:size].tolist()


def necessity(prober: Prober, explanation, item: int, k: int) -> bool:
    """CountER's necessity: without the explanation's items the item leaves the top-K."""
    return prober.rank_without(explanation, item) > k if len(explanation) else False


def sufficiency(prober: Prober, explanation, item: int, k: int) -> bool:
    """CountER's sufficiency: with only the explanation's items as history the item stays
    in the top-K."""
    return prober.rank_with_only(explanation, item) <= k if len(explanation) else False
