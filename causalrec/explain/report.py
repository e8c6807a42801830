"""``explain(recommender, user, item)``: why was this item recommended, three ways.

1. **Counterfactual history** (:mod:`causalrec.explain.history`): the smallest set of the
   user's own training interactions without which the item leaves the top-K, found and
   verified by re-scoring through the Recommender's update; beside it the "because you
   liked" nearest neighbours, for contrast.
2. **Text evidence** (:mod:`causalrec.explain.text`): the user's review sentences and the
   item's text spans closest in the text encoder's intent space (text encoders only).
3. **Causal** (:mod:`causalrec.explain.causal`): the effect of recommending for users with
   this intent from the study's fitted network, direct and mediated where the graph has a
   mediator, with the counterfactual PN/PS beside the interventional effect.

:func:`explain_many` explains a batch of (user, item) pairs into one DataFrame, for
evaluation (:mod:`causalrec.explain.fidelity`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .causal import CausalEvidence, causal_evidence
from .history import (
    ORDERS,
    ExplanationError,
    HistoryExplanation,
    Prober,
    counterfactual_history,
    nearest_neighbour_explanation,
)
from .text import TextEvidence, text_evidence


@dataclass
class Explanation:
    """A recommendation explained: counterfactual history, text evidence, causal effect."""

    user: str
    item: str
    k: int
    rank: int
    history: HistoryExplanation
    because_you_liked: list
    text: TextEvidence | None = None
    causal: CausalEvidence | None = None

    def summary(self) -> str:
        lines = [f"Item {self.item} is #{self.rank} in user {self.user}'s top-{self.k}.",
                 f"Counterfactual: {self.history}.",
                 f"Because you liked (nearest neighbours): {self.because_you_liked}."]
        if self.text is not None:
            lines.append(f"Text: {self.text}.")
        if self.causal is not None:
            lines.append(f"Causal: {self.causal}.")
        return "\n".join(lines)

    __str__ = summary

    def _repr_markdown_(self) -> str:
        return "\n\n".join(f"- {line}" for line in self.summary().splitlines())


def _texts(data, u: int, i: int) -> tuple[str | None, str | None]:
    if data is None:
        return None, None
    ut, it = getattr(data, "user_text", None), getattr(data, "item_text", None)
    return (ut[u] if ut is not None and u < len(ut) else None,
            it[i] if it is not None and i < len(it) else None)


def explain(recommender, user, item, k: int = 10, *, data=None, network: Any = None,
            graph: Any = None, evidence: Mapping | Callable | None = None,
            max_size: int | None = None, orders: tuple = ORDERS,
            sufficient: bool = True, n_text: int = 3, seed: int = 0) -> Explanation:
    """Explain why ``item`` is in ``user``'s top-``k`` (raw ids).

    Args:
        recommender: a :class:`~causalrec.recommend.Recommender`.
        data: the training InteractionData, for the user's and item's text (optional).
        network, graph: the study's fitted network and its declared graph (optional), for
            the causal part.
        evidence: what describes this user in the network (e.g. ``{"intent": 2}``), or a
            callable ``(user_index, item_index) -> dict``.
        max_size, orders, sufficient: the counterfactual search's options
            (:func:`~causalrec.explain.history.counterfactual_history`).

    Raises:
        ExplanationError: unknown user or item, or the item is not in the user's top-``k``.

    The explanation is of the trained model: every probe ends with
    ``recommender.reset(user)``, so updates made to this user beforehand are undone.

    Example:
        The counterfactual set is checked by doing what it says - removing those items from
        the user's history with :meth:`~causalrec.recommend.Recommender.update` - and the
        item leaves the top-3:

        >>> import torch
        >>> from causalrec.experiment import compose
        >>> from causalrec.models import build_datamodule, build_module
        >>> from causalrec.recommend import Recommender
        >>> from causalrec.explain import explain
        >>> cfg = compose(["encoder.dim=8", "dataset.source.n_users=20",
        ...                "dataset.source.n_items=30", "dataset.source.per_user=8"])
        >>> dm = build_datamodule(cfg)
        >>> dm.setup("fit")
        >>> _ = torch.manual_seed(0)
        >>> rec = Recommender.from_module(build_module(cfg, dm.train_data), dm.train_data)
        >>> rec.recommend(["u0"], k=3).item.tolist()
        ['i17', 'i3', 'i1']
        >>> e = explain(rec, "u0", "i17", k=3)
        >>> print(e.history)  # doctest: +ELLIPSIS
        without [...] (... interaction(s)) item i17 falls from rank 1 to ... (top-3)...
        >>> e.history.size == len(e.history.items) > 0, e.history.rank_after > 3
        (True, True)
        >>> rec.update("u0", remove_items=e.history.items)
        >>> "i17" in rec.recommend(["u0"], k=3).item.tolist()
        False
        >>> rec.reset("u0")
    """
    prober = Prober(recommender, user, seed)
    hist = counterfactual_history(recommender, user, item, k, max_size=max_size, seed=seed,
                                  orders=orders, sufficient=sufficient, prober=prober)
    u, i = prober.u, int(recommender.item_index([item])[0])
    nn = nearest_neighbour_explanation(recommender, user, item, size=hist.size or 1)
    if data is not None and getattr(data, "n_users", recommender.n_users) != recommender.n_users:
        raise ValueError(f"data has {data.n_users} users but the recommender "
                         f"{recommender.n_users}: pass the training data it was built from")
    user_text, item_text = _texts(data, u, i)
    text = text_evidence(recommender, user_text, item_text, n_text)
    causal = None
    if network is not None:
        if graph is None:
            raise ValueError("the causal part needs graph= (the declared graph of network=)")
        ev = evidence(u, i) if callable(evidence) else evidence
        causal = causal_evidence(network, graph, ev)
    return Explanation(str(user), str(item), int(k), hist.rank_before, hist,
                       [str(recommender.item_ids[j]) for j in nn], text, causal)


def explain_many(recommender, pairs: Sequence[tuple] | pd.DataFrame | None = None, *,
                 users: Sequence | None = None, k: int = 10, rank: int = 1,
                 **kwargs: Any) -> pd.DataFrame:
    """Explain many recommendations; one row per pair with the counterfactual set, its size,
    probes, the nearest-neighbour baseline and (with ``network=``) the causal numbers.

    ``pairs``: (user, item) raw ids (or a DataFrame with ``user`` and ``item``); or
    ``users``: each user's item at position ``rank`` of their top-``k``.
    """
    if pairs is None:
        if users is None:
            raise ValueError("explain_many needs pairs= or users=")
        if not 1 <= rank <= k:
            raise ValueError(f"rank must lie in 1..k={k}, got {rank}")
        top = recommender.recommend(list(users), k=k)
        top = top[top["rank"] == rank]
        pairs = list(zip(top["user"], top["item"], strict=True))
    elif isinstance(pairs, pd.DataFrame):
        missing = {"user", "item"} - set(pairs.columns)
        if missing:
            raise KeyError(f"pairs has no column(s) {sorted(missing)}")
        pairs = list(zip(pairs["user"], pairs["item"], strict=True))
    rows = []
    for user, item in pairs:
        e = explain(recommender, user, item, k, **kwargs)
        row = {"user": e.user, "item": e.item, "rank": e.rank, "found": e.history.found,
               "size": e.history.size, "explanation": e.history.items,
               "rank_after": e.history.rank_after, "probes": e.history.probes,
               "because_you_liked": e.because_you_liked}
        if e.causal is not None:
            row.update({"effect": e.causal.effect, "direct": e.causal.direct,
                        "indirect": e.causal.indirect, "pn": e.causal.pn, "ps": e.causal.ps})
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["Explanation", "ExplanationError", "explain", "explain_many"]
