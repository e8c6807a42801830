"""Text views of items and users for the language-model intent encoders.

Item text renders an item's features through a template, e.g. ``"{title} ({year}).
Genres: {genres}"`` -> ``"Toy Story (1995). Genres: Animation, Children's, Comedy"``.
User text summarises a user's demographics and their *training-split* history (most recent
first, by timestamp when there is one): the user text is built from the train
InteractionData only, so validation and test items can never leak into an encoder's input.

Interaction-level text (reviews, the ``text`` column of the interactions) is first-class:
both templates may use ``{reviews}`` - the user's (item's) latest ``review_items`` reviews
on *training* rows, most recent first - and ``{n_reviews}``. Like the history, they come
only from the data passed in, and the datamodule passes the training split, so no review
written in the validation or test period reaches an encoder.

Templates are plain ``str.format`` strings living in ``conf/dataset/*.yaml`` under
``text:``; the rendering is deterministic, and :meth:`TextTemplates.version` (the declared
version plus a hash of the templates) is what the encoder cache keys on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import DataValidationError, InteractionData
from .templates import TEMPLATE_VERSION, TextTemplates, _fields

__all__ = ["TEMPLATE_VERSION", "TextTemplates", "build_text_views", "interaction_texts",
           "item_texts", "user_texts"]

def _column_strings(table: pd.DataFrame | None, n: int, name: str, templates: TextTemplates,
                    ids: np.ndarray, id_name: str) -> dict[str, list[str]]:
    cols: dict[str, list[str]] = {id_name: [str(v) for v in ids]}
    if table is None:
        return cols
    for col in table.columns:
        vmap = templates.values.get(col, {})
        out = []
        for v in table[col].tolist():
            if isinstance(v, (tuple, list, np.ndarray)):
                out.append(templates.seq_separator.join(str(vmap.get(x, x)) for x in v))
            elif v is None or (isinstance(v, float) and v != v):
                out.append("")
            else:
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                out.append(str(vmap.get(str(v), v)))
        cols[str(col)] = out
    return cols


def _render(template: str, cols: dict[str, list[str]], n: int, what: str) -> list[str]:
    need = _fields(template)
    missing = [f for f in need if f not in cols]
    if missing:
        raise DataValidationError(
            f"the {what} text template {template!r} uses {missing}, which the data does not "
            f"have (available: {sorted(cols)})", column=f"text.{what}")
    return [template.format_map({f: cols[f][i] for f in need}) for i in range(n)]


def _recent_first(data: InteractionData, key: str, rows: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of ``data.interactions`` (or of ``rows``) ordered by ``key`` (user or item),
    most recent first (ties: later row first); returns (order, group starts, group counts)."""
    df = data.interactions
    n = data.n_users if key == "user" else data.n_items
    rows = np.arange(len(df)) if rows is None else rows
    keys = df[key].to_numpy(np.int64)[rows]
    ts = df["timestamp"].to_numpy(np.float64)[rows] if "timestamp" in df.columns \
        else rows.astype(np.float64)
    order = rows[np.lexsort((-rows, -ts, keys))]
    counts = np.bincount(keys, minlength=n)
    return order, np.r_[0, np.cumsum(counts)[:-1]], counts


def _reviews(data: InteractionData, key: str, t: TextTemplates) -> tuple[list[str], list[str]]:
    """``(reviews, n_reviews)`` per user or item from the interactions' ``text`` column:
    the latest ``t.review_items`` non-empty reviews, most recent first."""
    df = data.interactions
    n = data.n_users if key == "user" else data.n_items
    if "text" not in df.columns:
        raise DataValidationError(f"the {key} text template uses {{reviews}}, but the "
                                  "interactions have no 'text' column", column=f"text.{key}")
    text = df["text"].to_numpy(dtype=object)
    has = np.fromiter((isinstance(v, str) and v.strip() != "" for v in text), bool, len(text))
    order, starts, counts = _recent_first(data, key, np.flatnonzero(has))
    out, n_rev = [], []
    for g in range(n):
        k = min(int(counts[g]), t.review_items)
        out.append(t.review_separator.join(text[order[starts[g]:starts[g] + k]]) if k
                   else t.empty_reviews)
        n_rev.append(str(int(counts[g])))
    return out, n_rev


def item_texts(data: InteractionData, templates: TextTemplates | dict | None = None) -> list[str]:
    """One text per item, in item-index order. A template with ``{reviews}`` reads the
    reviews of ``data``'s rows: pass the training split."""
    t = TextTemplates.from_config(templates)
    cols = _column_strings(data.item_features, data.n_items, "item", t, data.item_ids, "item_id")
    if {"reviews", "n_reviews"} & set(_fields(t.item)):
        cols["reviews"], cols["n_reviews"] = _reviews(data, "item", t)
    return _render(t.item, cols, data.n_items, "item")


def _item_names(train: InteractionData, t: TextTemplates) -> list[str]:
    """Each item's ``history_field`` (its title), or its raw id when the field is absent."""
    if t.history_field in (train.item_features.columns if train.item_features is not None
                           else ()):
        return _column_strings(train.item_features[[t.history_field]], train.n_items, "item",
                               t, train.item_ids, "item_id")[t.history_field]
    return [str(v) for v in train.item_ids]


def interaction_texts(train: InteractionData, max_items: int = 20, decay: float = 0.8,
                      templates: TextTemplates | dict | None = None
                      ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The texts of each user's own latest training interactions, with recency weights.

    For every user, up to ``max_items`` positive training rows (``positives()``: what the
    user consumed), most recent first: the row's review
    (the interactions' ``text`` column) when it has one, else the consumed item's title
    (``history_field``). Weights are ``decay ** rank`` (rank 0: the latest), normalised to
    sum 1 per user; a user's intent is the weighted mean of these texts' embeddings
    (``users: reviews`` of :class:`~causalrec.encoders.TextIntentEncoder`). Pass the training
    split: nothing from validation or test is read.

    Returns:
        ``(texts, users, weights)``: flat lists/arrays, one entry per selected row.
    """
    if max_items < 1:
        raise ValueError(f"max_items must be >= 1, got {max_items}")
    if not 0 < decay <= 1:
        raise ValueError(f"decay must lie in (0, 1], got {decay}")
    t = TextTemplates.from_config(templates)
    names = _item_names(train, t)
    df = train.interactions
    review = df["text"].to_numpy(dtype=object) if "text" in df.columns \
        else np.full(len(df), None, dtype=object)
    item = df["item"].to_numpy(np.int64)
    consumed = np.flatnonzero(df.index.isin(train.positives().index))
    order, starts, counts = _recent_first(train, "user", consumed)
    texts, users, weights = [], [], []
    for u in range(train.n_users):
        rows = order[starts[u]:starts[u] + min(int(counts[u]), max_items)]
        if not len(rows):
            continue
        w = decay ** np.arange(len(rows), dtype=np.float64)
        for r, wr in zip(rows, w / w.sum(), strict=True):
            rv = review[r]
            texts.append(rv if isinstance(rv, str) and rv.strip() else
                         names[item[r]])
            users.append(u)
            weights.append(wr)
    return texts, np.asarray(users, np.int64), np.asarray(weights, np.float64)


def user_texts(train: InteractionData, templates: TextTemplates | dict | None = None) -> list[str]:
    """One text per user from ``train`` only (the training split): demographics, history and
    (``{reviews}``) the user's latest training reviews."""
    t = TextTemplates.from_config(templates)
    cols = _column_strings(train.user_features, train.n_users, "user", t, train.user_ids,
                           "user_id")
    names = _item_names(train, t)
    # most recent first; ties by later row first, so the order is fully determined
    order, starts, counts = _recent_first(train, "user")
    si = train.interactions["item"].to_numpy(np.int64)[order]
    history, n_hist = [], []
    for u in range(train.n_users):
        k = min(int(counts[u]), t.history_items)
        if k == 0:
            history.append(t.empty_history)
        else:
            history.append(t.history_separator.join(names[j] for j in si[starts[u]:starts[u] + k]))
        n_hist.append(str(int(counts[u])))
    cols["history"] = history
    cols["n_history"] = n_hist
    if {"reviews", "n_reviews"} & set(_fields(t.user)):
        cols["reviews"], cols["n_reviews"] = _reviews(train, "user", t)
    return _render(t.user, cols, train.n_users, "user")


def build_text_views(train: InteractionData, templates: TextTemplates | dict | None = None
                     ) -> tuple[list[str], list[str]]:
    """``(user_text, item_text)`` for a split's *training* data (pass ``split.train``)."""
    if hasattr(train, "train") and not isinstance(train, InteractionData):
        train = train.train  # a Split
    return user_texts(train, templates), item_texts(train, templates)
