"""The search of :func:`~causalrec.explain.history.counterfactual_history` over the
prefixes of one order of a user's history: the shortest prefix whose removal drops the item
(necessary), the shortest that is also sufficient (CountER's two properties, Tan et al.
2021), a necessary set grown until it is sufficient, each pruned greedily to an irreducible
set. Probes go through a :class:`~causalrec.explain.history.Prober`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .history import Prober


class PrefixSearch:
    """Prefixes of one order: the shortest whose removal drops the item (necessary), the
    shortest that is also sufficient, each pruned to an irreducible set. Every answer is
    cached; with the closed-form fold-in prefixes are probed in batches (1..16, 1..32, ...)."""

    def __init__(self, prober: Prober, order: np.ndarray, i: int, k: int, max_size,
                 prune: bool | int) -> None:
        self.p, self.order, self.i, self.k, self.prune = prober, order, i, k, prune
        self.limit = len(order) if max_size is None else min(int(max_size), len(order))
        self.without: dict[int, int] = {}  # prefix length -> rank without it
        self.only: dict[int, int] = {}  # prefix length -> rank with only it

    def _batch(self, store: dict, probe, m: int) -> bool:
        """Fill ``store`` with prefixes ``1..L`` in one batch of the closed form (``L``
        doubles from 16, so a small set costs a small batch); False without it."""
        n = min(self.limit, max(m, 2 * len(store), 16))
        batch = probe(self.order, n, self.i)
        if batch is None:
            return False
        store.update({j + 1: int(r) for j, r in enumerate(batch)})
        return True

    def drops(self, m: int) -> bool:
        if m not in self.without and not self._batch(self.without, self.p.prefix_ranks, m):
            self.without[m] = self.p.rank_without(self.order[:m], self.i)
        return self.without[m] > self.k

    def keeps(self, m: int) -> bool:
        if m not in self.only and not self._batch(self.only, self.p.prefix_ranks_only, m):
            self.only[m] = self.p.rank_with_only(self.order[:m], self.i)
        return self.only[m] <= self.k

    def shortest(self, pred, lo: int = 0) -> int | None:
        """The shortest prefix length in ``lo + 1..limit`` satisfying ``pred``, by doubling
        then bisection (``pred`` taken as monotone; the answer satisfies it)."""
        hi, m = None, lo + 1
        while m <= self.limit:
            if pred(m):
                hi = m
                break
            lo = m
            m = self.limit if m < self.limit and 2 * m > self.limit else 2 * m
        if hi is None:
            return None
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if pred(mid):
                hi = mid
            else:
                lo = mid
        return hi

    def _pruned(self, chosen: list, sufficient: bool) -> list:
        """Greedy pruning, last item first: drop an item when the set stays necessary (and
        ``sufficient``, sufficient). With the closed form the remaining candidates are
        probed in one batch until one can go (the same sets as one at a time)."""
        cap = len(chosen) if self.prune is True else int(self.prune)
        if not (self.prune and 1 < len(chosen) <= cap):
            return chosen
        p, i, k = self.p, self.i, self.k

        def ok(trial: list) -> bool:
            return p.rank_without(trial, i) > k and (
                not sufficient or p.rank_with_only(trial, i) <= k)

        todo = list(reversed(chosen))
        if p.ridge is None:
            for h in todo:
                trial = [c for c in chosen if c != h]
                if ok(trial):
                    chosen = trial
            return chosen
        while todo:
            trials = [[c for c in chosen if c != h] for h in todo]
            good = p._rank_rows(p.ridge.without(trials), i) > k
            if sufficient:
                good &= p._rank_rows(p.fresh.solve_many(trials), i) <= k
            hits = np.flatnonzero(good)
            if not len(hits):
                break
            chosen, todo = trials[hits[0]], todo[hits[0] + 1:]
        return chosen

    def necessary(self) -> tuple[list, int, bool] | None:
        """The shortest dropping prefix, pruned: ``(items, rank after removal, False)``."""
        m = self.shortest(self.drops)
        if m is None:
            return None
        chosen = self._pruned(list(self.order[:m]), sufficient=False)
        return chosen, self._rank_after(chosen, m), False

    def both(self) -> tuple[list, int, bool] | None:
        """The shortest prefix that is necessary and sufficient, pruned keeping both:
        ``(items, rank after removal, True)``, or None."""
        m_n, m_s = self.shortest(self.drops), self.shortest(self.keeps)
        if m_n is None or m_s is None:
            return None
        return self._both_from(max(m_n, m_s))

    def _both_from(self, m: int | None) -> tuple[list, int, bool] | None:
        """The first prefix from length ``m`` on that is necessary and sufficient, pruned
        keeping both, or None."""
        while m is not None and m <= self.limit and not (self.drops(m) and self.keeps(m)):
            m += 1
        if m is None or m > self.limit:
            return None
        chosen = self._pruned(list(self.order[:m]), sufficient=True)
        return chosen, self._rank_after(chosen, m), True

    def grown(self, core: list, more: np.ndarray) -> tuple[list, int, bool] | None:
        """A necessary ``core`` grown by the fewest items of ``more`` (in order) until it is
        also sufficient, then pruned keeping both: ``(items, rank after removal, True)``,
        or None."""
        in_core = set(core)
        extra = np.asarray([h for h in more.tolist() if h not in in_core], dtype=np.int64)
        room = len(extra) if self.limit >= len(self.order) else self.limit - len(core)
        grow = PrefixSearch(self.p, np.concatenate([np.asarray(core, np.int64), extra]),
                            self.i, self.k, len(core) + max(room, 0), self.prune)
        return grow._both_from(grow.shortest(grow.keeps, lo=len(core) - 1))

    def _rank_after(self, chosen: list, m: int) -> int:
        return self.without[m] if len(chosen) == m and m in self.without else \
            self.p.rank_without(chosen, self.i)
