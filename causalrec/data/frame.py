"""Your own interactions as :class:`InteractionData`: ``InteractionData.from_frame(df, ...)``.

A pandas DataFrame with one row per interaction (an impression, a click, a rating, a review)
names its columns by role: ``user`` and ``item`` (raw ids, strings or integers) and any of
``label`` (0/1), ``rating`` (a number), ``timestamp`` (numbers, datetimes or date strings),
``exposure`` (0/1), ``propensity`` (in (0, 1]), ``policy`` (the logging policy's name),
``position`` (a rank, >= 0) and ``text`` (a review; missing on rows without one). Optional
``items`` / ``users`` tables (one row per id) give the id spaces in their order and become
the feature tables; without them, ids are indexed in sorted order (numeric ids as numbers).

Everything is checked before anything is built: a bad value raises
:class:`DataValidationError` naming the column of *your* frame and its rows (0-based
positions in the frame). :func:`raw_to_index` / :func:`index_to_raw` map ids both ways.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from .recbole_dataset import sorted_ids
from .schema import DataValidationError, InteractionData

#: the roles a column can play besides ``user`` and ``item``
ROLES = ("label", "rating", "timestamp", "exposure", "propensity", "policy", "position", "text")


# ---------------------------------------------------------------------- column checks
def _examples(values, mask, k: int = 5) -> list:
    return [v for v in pd.Series(np.asarray(values, dtype=object)[np.asarray(mask)][:k]).tolist()]


def _numbers(s: pd.Series) -> tuple[np.ndarray, list]:
    if pd.api.types.is_bool_dtype(s):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return v, [(np.isnan(v), "missing values")]
    if pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        notnum = np.zeros(len(v), dtype=bool)
    else:
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        notnum = np.isnan(v) & s.notna().to_numpy()
    return v, [(notnum, "values that are not numbers"), (np.isnan(v) & ~notnum, "missing (NaN)"),
               (np.isinf(v), "infinite values")]


def _timestamps(s: pd.Series) -> tuple[np.ndarray, list]:
    missing = s.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(s):
        t = s
    elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return v, [(missing, "missing timestamps"), (np.isinf(v), "infinite timestamps")]
    else:
        num = pd.to_numeric(s, errors="coerce")
        if (num.notna() | s.isna()).all():  # numbers written as text
            v = num.to_numpy(dtype=np.float64, na_value=np.nan)
            return v, [(missing, "missing timestamps")]
        text = s.astype(str)
        t = pd.to_datetime(text, errors="coerce", utc=True)
        retry = t.isna() & ~s.isna()
        if retry.any():  # several formats in one column: parse the rest one by one
            t = t.copy()
            t[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed")
    if t.dt.tz is None:
        t = t.dt.tz_localize("UTC")
    bad = t.isna().to_numpy() & ~missing
    v = t.dt.as_unit("ns").astype("int64").to_numpy().astype(np.float64) / 1e9
    v[t.isna().to_numpy()] = np.nan
    return v, [(missing, "missing timestamps"),
               (bad, "unparseable timestamps (use numbers, datetimes or ISO dates)")]


def _text(s: pd.Series) -> tuple[np.ndarray, list]:
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) \
            or pd.api.types.is_datetime64_any_dtype(s):
        return np.full(len(s), None, dtype=object), [
            (s.notna().to_numpy(), f"a text column holds {s.dtype} values, not text")]
    obj = s.astype(object).to_numpy()
    missing = s.isna().to_numpy()
    notstr = ~missing & ~np.fromiter((isinstance(v, str) for v in obj), bool, len(obj))
    out = np.where(missing, None, obj).astype(object)
    return out, [(notstr, "values that are not text (a text column holds strings; "
                          "missing is allowed)")]


def column_problems(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, list]]:
    """Convert each role column of a canonical frame and list its problems.

    Returns ``{role: (values, [(bad_rows_mask, problem), ...])}`` for the role columns
    present; ``values`` are the converted column (float64 for numbers, seconds for
    timestamps, object for text/policy). Ids are checked by :func:`encode_ids`.
    """
    out: dict[str, tuple[np.ndarray, list]] = {}
    for role in ROLES:
        if role not in frame.columns:
            continue
        s = frame[role]
        if role == "timestamp":
            out[role] = _timestamps(s)
        elif role == "text":
            out[role] = _text(s)
        elif role == "policy":
            missing = s.isna().to_numpy()
            out[role] = (s.astype(str).to_numpy(dtype=object), [(missing, "missing policy")])
        else:
            v, problems = _numbers(s)
            if role in ("label", "exposure"):
                problems.append((~np.isnan(v) & (v != 0) & (v != 1), "values outside {0, 1}"))
            elif role == "propensity":
                problems.append((~np.isnan(v) & ~((v > 0) & (v <= 1)),
                                 "propensities outside (0, 1]"))
            elif role == "position":
                problems.append((v < 0, "negative positions"))
                problems.append((np.isfinite(v) & (v != np.round(v)), "positions that are not "
                                                                       "whole numbers"))
            out[role] = (v, problems)
    return out


def encode_ids(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)``: int64 codes into ``uniques`` (ids as strings); -1 marks a
    missing or empty id. Hashes the raw values once (fast on millions of rows)."""
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.all(np.isnan(v) | (v == np.round(v))):  # integer ids upcast by missing values
            s = s.astype("Int64")
    elif s.dtype == object:
        s = s.astype(str)  # one string form per id (mixed int/str would collide later)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    names = pd.Index(uniques).astype(str)
    codes = codes.astype(np.int64)
    empty = np.asarray(names.str.strip() == "")
    if empty.any():
        codes[np.isin(codes, np.flatnonzero(empty))] = -1
    return codes, names.to_numpy(dtype=object)


def _raise(problems: list, column: str, rows: np.ndarray, values, source: str) -> None:
    for mask, problem in problems:
        mask = np.asarray(mask)
        if mask.any():
            raise DataValidationError(f"{int(mask.sum())} rows with {problem} "
                                      f"(e.g. {_examples(values, mask)})", source=source,
                                      column=column, rows=rows[mask])


# ---------------------------------------------------------------------- id tables
def _id_table(table: pd.DataFrame, key: str, what: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Ids (as strings, in table order) and the remaining columns as features (0..n-1)."""
    src = f"{what} table"
    if not isinstance(table, pd.DataFrame):
        raise DataValidationError(f"the {what} table must be a DataFrame, got "
                                  f"{type(table).__name__}", source=src)
    if key not in table.columns:
        if table.index.name == key:
            table = table.reset_index()
        else:
            raise DataValidationError(f"no id column {key!r} (columns: {list(table.columns)})",
                                      source=src, column=key)
    codes, names = encode_ids(table[key].reset_index(drop=True))
    rows = np.arange(len(table))
    if (codes < 0).any():
        raise DataValidationError(f"{int((codes < 0).sum())} missing or empty ids",
                                  source=src, column=key, rows=rows[codes < 0])
    dup = pd.Series(codes).duplicated(keep="first").to_numpy()
    if dup.any():
        raise DataValidationError(f"{int(dup.sum())} duplicate ids (e.g. "
                                  f"{list(names[codes[dup]][:5])}); each id needs one row",
                                  source=src, column=key, rows=rows[dup])
    feats = table.drop(columns=[key]).reset_index(drop=True)
    return names[codes], feats


def _index(df: pd.DataFrame, role: str, column: str, rows: np.ndarray, source: str,
           table: pd.DataFrame | None, key: str | None) -> tuple[np.ndarray, np.ndarray, object]:
    """Integer indices of the ``role`` ids, the id space, and its feature table."""
    codes, names = encode_ids(df[role])
    if (codes < 0).any():
        bad = codes < 0
        raise DataValidationError(f"{int(bad.sum())} rows with a missing or empty id "
                                  f"(e.g. {_examples(df[role].to_numpy(), bad)})",
                                  source=source, column=column, rows=rows[bad])
    if table is None:
        ids = sorted_ids(names)
        feats = None
    else:
        ids, feats = _id_table(table, key or column, "user" if role == "user" else "item")
    pos = pd.Index(ids).get_indexer(names)
    unknown = pos < 0
    if unknown.any():
        bad = np.isin(codes, np.flatnonzero(unknown))
        raise DataValidationError(
            f"{int(bad.sum())} rows reference {role} ids missing from the {role}s table "
            f"(e.g. {list(names[unknown][:5])})", source=source, column=column, rows=rows[bad])
    return pos[codes].astype(np.int64), np.asarray(ids, dtype=object), feats


# ---------------------------------------------------------------------- the entry point
def canonical(df: pd.DataFrame, roles: dict[str, str], keep=(), source: str = "DataFrame"
              ) -> pd.DataFrame:
    """Your frame's role columns renamed to their roles (``user``, ``item``, ``label``...),
    plus the ``keep`` columns and ``_row``, the row's position in ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"from_frame needs a pandas DataFrame, got "
                                  f"{type(df).__name__}", source=source)
    if len(df) == 0:
        raise DataValidationError("empty data: the frame has no rows", source=source)
    unknown = sorted(set(roles) - {"user", "item", *ROLES})
    if unknown:
        raise DataValidationError(f"unknown column roles {unknown}; roles are user, item, "
                                  f"{', '.join(ROLES)}", source=source)
    out = {}
    for role, col in roles.items():
        if col is None:
            continue
        if col not in df.columns:
            raise DataValidationError(f"the {role} column {col!r} is not in the frame "
                                      f"(columns: {list(df.columns)})", source=source, column=col)
        out[role] = df[col].reset_index(drop=True)
    for col in keep:
        if col not in df.columns:
            raise DataValidationError(f"keep column {col!r} is not in the frame", source=source,
                                      column=col)
        out[col] = df[col].reset_index(drop=True)
    frame = pd.DataFrame(out)
    frame["_row"] = np.arange(len(df), dtype=np.int64)
    return frame


def default_templates(has_reviews: bool, item_features: pd.DataFrame | None) -> dict:
    """Text views for a frame: item text from the item table's text columns (else the id);
    user text from the user's latest training reviews (else their training items)."""
    cols = [] if item_features is None else [
        c for c in item_features.columns
        if pd.api.types.is_string_dtype(item_features[c]) or item_features[c].dtype == object]
    item = ". ".join(f"{{{c}}}" for c in cols) if cols else "{item_id}"
    user = "Recent reviews: {reviews}" if has_reviews else "Recent items: {history}."
    return {"item": item, "user": user, "history_field": cols[0] if cols else "item_id",
            "version": "frame-text-v1"}


def from_frame(df: pd.DataFrame, user: str, item: str, *, label: str | None = None,
               rating: str | None = None, timestamp: str | None = None,
               exposure: str | None = None, propensity: str | None = None,
               policy: str | None = None, position: str | None = None, text: str | None = None,
               items: pd.DataFrame | None = None, users: pd.DataFrame | None = None,
               item_key: str | None = None, user_key: str | None = None, keep=(),
               text_templates: dict | None = None, preprocess=None, name: str = "frame",
               source: str | None = None) -> InteractionData:
    """Build :class:`InteractionData` from a DataFrame (see the module docstring).

    Args:
        df: one row per interaction.
        user, item: the id columns of ``df`` (strings or integers).
        label, rating, timestamp, exposure, propensity, policy, position, text: the columns
            of ``df`` that play these roles (see the module docstring); ``None`` = absent.
        items, users: tables with one row per id (id column ``item_key`` / ``user_key``,
            default the same name as in ``df``, or the index); their other columns become
            ``item_features`` / ``user_features``. Every id in ``df`` must be listed.
        keep: further columns of ``df`` carried into the interactions unchanged.
        text_templates: text views (:class:`~causalrec.data.templates.TextTemplates`
            keys); default ``default_templates`` in this module. They are stored in
            ``meta["text_templates"]`` and rendered by the datamodule *after* the split,
            from training rows only.
        preprocess: rules for :mod:`causalrec.data.preprocess` applied first (invalid rows
            are then dropped and reported instead of raising); the removal report is in
            ``meta["preprocess_report"]`` (read it with ``preprocess_report(data)``).
        name, source: dataset name and where it came from (used in errors).
    """
    from .templates import TextTemplates

    source = source or "DataFrame"
    roles = {"user": user, "item": item, "label": label, "rating": rating,
             "timestamp": timestamp, "exposure": exposure, "propensity": propensity,
             "policy": policy, "position": position, "text": text}
    roles = {r: c for r, c in roles.items() if c is not None}
    frame = canonical(df, roles, keep, source)
    report = None
    if preprocess is not None:
        from .preprocess import Preprocess

        rules = Preprocess.from_config(preprocess)
        table_ids = {k: None if t is None else _id_table(t, key or col, k)[0]
                     for k, t, key, col in (("user", users, user_key, user),
                                            ("item", items, item_key, item))}
        frame, report = rules.apply(frame, user_ids=table_ids["user"],
                                    item_ids=table_ids["item"], source=source)
        if len(frame) == 0:
            raise DataValidationError("preprocessing removed every row (see the report: "
                                      f"{report.to_dict('records')})", source=source)
        # ids the filters removed leave the tables too (RecBole drops them from its feats)
        if users is not None and not rules.keeps_unseen("user"):
            users = users.iloc[np.isin(table_ids["user"], encode_ids(frame["user"])[1])]
        if items is not None and not rules.keeps_unseen("item"):
            items = items.iloc[np.isin(table_ids["item"], encode_ids(frame["item"])[1])]
    rows = frame["_row"].to_numpy()
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    out["user"], user_ids, user_features = _index(frame, "user", user, rows, source, users,
                                                  user_key)
    out["item"], item_ids, item_features = _index(frame, "item", item, rows, source, items,
                                                  item_key)
    for role, (values, problems) in column_problems(frame).items():
        _raise(problems, roles.get(role, role), rows, frame[role].to_numpy(), source)
        if role in ("label", "exposure"):
            values = values.astype(np.float32)
        elif role == "position":
            values = values.astype(np.int64)
        out[role] = values
    for col in keep:
        out[col] = frame[col].to_numpy()
    templates = TextTemplates.from_config(
        text_templates if text_templates is not None
        else default_templates("text" in roles, item_features))
    meta = {"columns": {r: str(c) for r, c in roles.items()}, "origin": "from_frame",
            "text_templates": _template_dict(templates)}
    if report is not None:
        meta["preprocess_report"] = report.to_dict("records")
    return InteractionData(interactions=out, n_users=len(user_ids), n_items=len(item_ids),
                           user_ids=user_ids, item_ids=item_ids, user_features=user_features,
                           item_features=item_features, name=name, source=source, meta=meta)


def _template_dict(t) -> dict:
    d = asdict(t)
    d["version"] = d.pop("declared_version")
    return d


# ---------------------------------------------------------------------- ids both ways
def raw_to_index(data: InteractionData, raw, kind: str = "user") -> np.ndarray:
    """Indices of raw ids (strings or integers); an unknown id raises naming it.

    Example:
        >>> import pandas as pd
        >>> from causalrec.data import InteractionData, index_to_raw, raw_to_index
        >>> df = pd.DataFrame({"user": ["ann", "bob", "ann"], "item": ["x", "y", "y"],
        ...                    "click": [1, 0, 1]})
        >>> data = InteractionData.from_frame(df, user="user", item="item", label="click")
        >>> raw_to_index(data, ["bob", "ann"])
        array([1, 0])
        >>> index_to_raw(data, [0, 1], kind="item")
        array(['x', 'y'], dtype=object)
        >>> raw_to_index(data, ["eve"])
        Traceback (most recent call last):
        ...
        causalrec.data.schema.DataValidationError: in DataFrame, column 'user': unknown user ids ['eve']
    """
    ids = data.user_ids if kind == "user" else data.item_ids
    raw = pd.Series(np.atleast_1d(np.asarray(raw, dtype=object))).astype(str)
    idx = pd.Index(ids).get_indexer(raw)
    if (idx < 0).any():
        raise DataValidationError(f"unknown {kind} ids {list(raw[idx < 0][:5])}",
                                  source=data.source, column=kind)
    return idx.astype(np.int64)


def index_to_raw(data: InteractionData, idx, kind: str = "user") -> np.ndarray:
    """Raw ids (as strings) of integer indices."""
    ids = data.user_ids if kind == "user" else data.item_ids
    return np.asarray(ids, dtype=object)[np.asarray(idx, dtype=np.int64)]
