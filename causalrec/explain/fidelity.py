"""Fidelity of history explanations: necessity, sufficiency and their harmonic mean, as in
CountER (Tan et al. 2021, "Counterfactual explainable recommendation", CIKM, sec. 5.3):

- ``PN`` (probability of necessity): the share of explanations whose removal from the
  user's history drops the item out of the top-K (re-scored);
- ``PS`` (probability of sufficiency): the share whose items *alone*, as the user's whole
  history, keep the item in the top-K;
- ``F_NS = 2 PN PS / (PN + PS)``.

Both are averaged over the pairs the counterfactual search explains, for the counterfactual
explanation and for the nearest-neighbour "because you liked" baseline of the same size.
On the simulator the true causes are known: the click equation reads the user's weight on the
item's topic, so a history item is a *true cause* of the recommendation when it shares the
target's topic; ``true_share`` is the share of explanation items that do (``history_share``:
the same share over the whole history, the chance level).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .history import (
    ORDERS,
    Prober,
    counterfactual_history,
    nearest_neighbour_explanation,
    sufficiency,
)

METHODS = ("counterfactual", "nearest_neighbour")


def fidelity(recommender, pairs: Sequence[tuple], k: int = 10, *,
             item_topic: np.ndarray | None = None, max_size: int | None = None,
             orders: tuple = ORDERS, sufficient: bool = True,
             seed: int = 0) -> pd.DataFrame:
    """One row per (user, item) pair: for both methods the explanation size, ``pn``, ``ps``
    (1/0; NaN where the counterfactual search found nothing) and, with ``item_topic``
    (indexed like the recommender's items), ``true_share``. ``orders`` and ``sufficient``
    configure the counterfactual search (:func:`counterfactual_history`)."""
    rows = []
    for user, item in pairs:
        prober = Prober(recommender, user, seed)
        cf = counterfactual_history(recommender, user, item, k, max_size=max_size, seed=seed,
                                    orders=orders, sufficient=sufficient, prober=prober)
        i = int(recommender.item_index([item])[0])
        row = {"user": str(user), "item": str(item), "found": cf.found,
               "history": len(prober.history)}
        if item_topic is not None:
            topic = np.asarray(item_topic)
            row["history_share"] = float(np.mean(topic[prober.history] == topic[i])) \
                if len(prober.history) else np.nan
        if cf.found:
            nn = nearest_neighbour_explanation(recommender, user, item, size=cf.size)
            sets = {"counterfactual": cf.indices, "nearest_neighbour": nn}
            for name, s in sets.items():
                pn = cf.found if name == "counterfactual" else \
                    prober.rank_without(s, i) > k
                row[f"{name}_size"] = len(s)
                row[f"{name}_pn"] = float(pn)
                known = cf.sufficient if name == "counterfactual" else None
                row[f"{name}_ps"] = float(sufficiency(prober, s, i, k) if known is None
                                          else known)
                if item_topic is not None:
                    row[f"{name}_true_share"] = float(np.mean(topic[np.asarray(s)] == topic[i]))
        rows.append(row)
    return pd.DataFrame(rows)


def _mean_se(x: pd.Series) -> tuple[float, float]:
    x = x.dropna().astype(float)
    if len(x) == 0:
        return float("nan"), float("nan")
    se = float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")
    return float(x.mean()), se


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per method: PN, PS, F_NS, mean size and true-cause share (with standard errors over
    the explained pairs), and the share of pairs explained."""
    out = []
    explained = table[table["found"]]
    for name in METHODS:
        if f"{name}_pn" not in explained:
            continue
        pn, pn_se = _mean_se(explained[f"{name}_pn"])
        ps, ps_se = _mean_se(explained[f"{name}_ps"])
        row = {"method": name, "pairs": len(table), "explained": len(explained),
               "PN": pn, "PN_se": pn_se, "PS": ps, "PS_se": ps_se,
               "F_NS": 2 * pn * ps / (pn + ps) if pn + ps > 0 else 0.0,
               "size": float(explained[f"{name}_size"].mean())}
        if f"{name}_true_share" in explained:
            row["true_share"], row["true_share_se"] = _mean_se(explained[f"{name}_true_share"])
            row["history_share"] = float(explained["history_share"].mean())
        out.append(row)
    return pd.DataFrame(out)
