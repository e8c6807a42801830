"""Updates without retraining, mixed into :class:`~causalrec.recommend.Recommender`.

* text users (``users: text``, the hybrid's text part) are re-encoded from new text;
* history users (``users: history``) and sequence users are recomputed from their history
  with new items appended (removed items taken out);
* ID users (and hybrid users, whose representation is partly a free vector) get a fold-in:
  for a dot-product head by default the closed form
  :class:`~causalrec.recommend.foldin.RidgeFoldIn` (exact, deterministic, one solve), else
  the gradient :func:`~causalrec.recommend.foldin.fold_in` (``fold_in={"method":
  "gradient"}`` asks for it everywhere);
* a user known only by a few items (:meth:`Updates.history_scores`) is folded in from the
  population mean, nothing of a known user's other items kept;
* new items join the catalogue from their text (text and hybrid encoders).

Updated users are kept as per-user representation overrides; the trained module is never
changed, so :meth:`Updates.reset` restores a user exactly.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from .foldin import RIDGE_OPTIONS, RidgeFoldIn, auto_target, fold_in


class Updates:
    """The update half of the Recommender (it owns ``_rows``, ``_history``,
    ``_seen_changed``; see :class:`~causalrec.recommend.Recommender`)."""

    def history(self, user: int) -> list[int]:
        """A user's positive training items, oldest first (by timestamp, else table order,
        as the sequence encoder orders them), with updates applied."""
        if user not in self._history:
            if self.__dict__.get("_hist_csr") is None:
                df = self._train_data.interactions
                if self._train_data.target_column == "label":
                    df = df[df["label"].to_numpy() > 0]
                order = ["user", "timestamp"] if "timestamp" in df.columns else ["user"]
                df = df.assign(_row=np.arange(len(df))).sort_values(order + ["_row"],
                                                                     kind="stable")
                ptr = np.searchsorted(df["user"].to_numpy(), np.arange(self.n_users + 1))
                self._hist_csr = (ptr, df["item"].to_numpy(np.int64))
            ptr, items = self._hist_csr
            self._history[user] = items[ptr[user]:ptr[user + 1]].tolist()
        return self._history[user]

    def update(self, user, new_items=None, new_text: str | None = None, remove_items=None,
               seed: int = 0) -> None:
        """Fold new interactions and/or new text into a known user without retraining.

        Text users (``users: text``, hybrid) are re-encoded from ``new_text``; history
        users (``users: history``, sequence) are recomputed from their history with
        ``new_items`` appended (``remove_items`` taken out); ID users (and the hybrid) get
        a fold-in (:func:`~causalrec.recommend.foldin.fold_in`). New items become seen.
        """
        u = int(self.user_index([user])[0])
        add = self.item_index(new_items) if new_items is not None else np.zeros(0, np.int64)
        drop = self.item_index(remove_items) if remove_items is not None else np.zeros(0, np.int64)
        if new_text is not None:
            rows = self.text_rows([new_text], users=np.array([u]))[0]  # validates the text
        else:
            rows = [r.cpu() for r in self._current_rows(u)]
        hist = [i for i in self.history(u) if i not in set(drop.tolist())] + [
            i for i in add.tolist() if i not in set(self.history(u))]
        if len(add) or len(drop):
            rows = self._refit(u, rows, hist, seed)
        self._history[u] = hist
        seen = set(self.seen_items([u])[0].tolist()) - set(drop.tolist()) | set(add.tolist())
        self._seen_changed[u] = np.asarray(sorted(seen), dtype=np.int64)
        self._rows[u] = rows

    def _refit(self, u: int, rows: list[torch.Tensor], hist: list[int], seed: int,
               fresh: bool = False) -> list[torch.Tensor]:
        """``rows`` with every history-dependent representation refitted to ``hist``:
        recomputed (history encoders) or folded in (free ID rows) from the user's current
        row, or with ``fresh`` from the population mean (a user who has only ``hist``)."""
        free = []
        for e, enc in enumerate(self.encoders):
            rep = enc.users_from_items([hist])
            if rep is not None:
                rows[e] = rep[0].float().cpu()
            elif enc.folds_in_users:
                free.append(e)
                if fresh:
                    rows[e] = self.population_rows()[e]
        if not free:
            return rows
        ridge = self.ridge_fold_in(u, rows[free[0]], fresh=fresh)
        if ridge is not None:
            rows[free[0]] = ridge.solve(hist)
        else:
            new = fold_in(self.head, [self.encoders[e] for e in free], u,
                          [rows[e] for e in free], np.asarray(hist, dtype=np.int64),
                          self.n_items, seed=seed, **self._gradient_options())
            for e, r in zip(free, new, strict=True):
                rows[e] = r
        return rows

    def population_rows(self) -> list[torch.Tensor]:
        """Per encoder, the mean trained user representation: where a fold-in of a user
        known only by a few items starts (the population prior)."""
        if self.__dict__.get("_population") is None:
            with torch.no_grad():
                users = torch.arange(self.n_users)
                self._population = [enc.encode_users(users).float().mean(0).cpu()
                                    for enc in self.encoders]
        return list(self._population)

    def history_scores(self, user, history, seed: int = 0) -> torch.Tensor:
        """Scores ``[n_items]`` for a user whose *whole* history is ``history`` (item
        indices): history encoders recompute from it, free ID rows are folded in from the
        population mean (:meth:`population_rows`), so nothing of ``user``'s other items is
        kept; text parts stay ``user``'s. Nothing is stored."""
        u = int(self.user_index([user])[0])
        hist = list(dict.fromkeys(int(h) for h in np.asarray(history, dtype=np.int64)))
        rows = self._refit(u, [r.cpu() for r in self._current_rows(u)], hist, seed,
                           fresh=True)
        virtual = self.n_users  # scored through the overrides, as users known by text
        return self._scores(torch.tensor([virtual]), extra={virtual: rows})[0]

    def _fold_in_method(self) -> str:
        method = self.fold_in_options.get("method", "auto")
        if method not in ("auto", "gradient", "ridge"):
            raise ValueError(f"fold_in option 'method' must be 'auto', 'gradient' or 'ridge', "
                             f"got {method!r}")
        return method

    def _gradient_options(self) -> dict:
        opts = {k: v for k, v in self.fold_in_options.items() if k != "method"}
        if self._fold_in_method() != "gradient":  # a head the closed form does not cover
            opts = {k: v for k, v in opts.items() if k not in RIDGE_OPTIONS}
        return opts

    def ridge_fold_in(self, u: int, start: torch.Tensor | None = None,
                      fresh: bool = False) -> RidgeFoldIn | None:
        """The closed-form fold-in of user index ``u`` from their current vector and
        history when the method is ``"ridge"`` or ``"auto"`` (the default) and the head is
        a dot product of one encoder whose user rows are free (ID users); else None (the
        gradient fold-in). ``fresh``: a user who has only what is solved for, from the
        population mean (:meth:`population_rows`; empty base, uncalibrated), with ``u``'s
        target (the scores' scale)."""
        if self._fold_in_method() == "gradient" or not self.dot_product:
            return None
        enc = self.encoders[0]
        if not enc.folds_in_users or enc.users_from_items([[]]) is not None:
            return None
        items = self.item_vectors()
        cached = self.__dict__.get("_ridge_gram")
        if cached is None or cached[0] is not items:
            v = items.detach().to(torch.float64)
            cached = self._ridge_gram = (items, v.T @ v)
        opts = {k: v for k, v in self.fold_in_options.items() if k in RIDGE_OPTIONS}
        own = self._current_rows(u)[0].cpu()
        if fresh:
            if opts.get("target", "auto") == "auto":
                opts["target"] = auto_target(items, own, self.history(u))
            opts["calibrate"] = False
            start = self.population_rows()[0] if start is None else start
            return RidgeFoldIn(items, start, [], gram=cached[1], **opts)
        opts.setdefault("calibrate", "share")
        prior = self.population_rows()[0] if opts["calibrate"] == "share" else None
        return RidgeFoldIn(items, own if start is None else start, self.history(u),
                           gram=cached[1], prior=prior, **opts)

    def _current_rows(self, u: int) -> list[torch.Tensor]:
        if u in self._rows:
            return list(self._rows[u])
        one = torch.tensor([u])
        with torch.no_grad():
            return [enc.encode_users(one)[0].float() for enc in self.encoders]

    def reset(self, user) -> None:
        """Undo every update of ``user``: back to the trained representation and seen set."""
        u = int(self.user_index([user])[0])
        for store in (self._rows, self._seen_changed, self._history):
            store.pop(u, None)

    def add_items(self, texts: Sequence[str], ids: Sequence) -> None:
        """Add items described by ``texts`` under raw ``ids`` (text and hybrid encoders)."""
        ids = [str(i) for i in ids]
        if isinstance(texts, str) or len(list(texts)) != len(ids) or not ids:
            raise ValueError(f"add_items needs one text per id and at least one item; got "
                             f"{0 if isinstance(texts, str) else len(list(texts))} texts for "
                             f"{len(ids)} ids")
        taken = [i for i in ids if i in self._item_pos] + [
            i for n, i in enumerate(ids) if i in ids[:n]]
        if taken:
            raise ValueError(f"item ids {taken[:5]} already exist or repeat")
        from .recommender import top_level_encoders

        head = copy.deepcopy(self.head)  # extend a copy; keep it only if it scores
        for _, enc in top_level_encoders(head):
            enc.extend_items(list(texts))
        head.n_items = head.n_items + len(ids)
        try:
            with torch.no_grad():
                probe = head.full_scores(torch.tensor([0]))
            if probe.shape[-1] != head.n_items:
                raise RuntimeError(f"scores have {probe.shape[-1]} columns")
        except (RuntimeError, IndexError) as exc:
            raise ValueError(f"{type(self.head).__name__} cannot score new items "
                             f"(item-indexed parameters of its own): {exc}") from exc
        self.head = head  # the module passed in is left as it was
        self.encoders = [enc for _, enc in top_level_encoders(head)]
        for i in ids:
            self._item_pos[i] = len(self.item_ids)
            self.item_ids = np.append(self.item_ids, np.array([i], dtype=object))
        self._seen.resize((self.n_users, self.n_items))
        self.index, self._item_matrix = None, None

