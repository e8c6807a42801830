"""A RecBole dataset folder (``NAME.inter`` [+ ``NAME.user``, ``NAME.item``]) as InteractionData.

Field mapping (RecBole's defaults, Zhao et al., CIKM 2021): ``user_id`` and ``item_id`` are
the ids (``token`` fields, never empty), ``rating``, ``label`` and ``timestamp`` keep their
names; any other numeric ``.inter`` field (e.g. ``propensity``, ``exposure``) is carried as a
column. The columns causalrec gives a meaning to (``label``, ``rating``, ``timestamp``,
``exposure``, ``propensity``, ``position``) are read as numbers whatever their declared type
(``label:token`` is common in hand-made files), and a value that is not a number is an error;
other non-numeric ``.inter`` fields are not carried, with a warning naming them. Users and
items are indexed in the order of the ``.user`` / ``.item`` files when present (every id in
``.inter`` must then appear there, and each only once), otherwise in sorted id order
(numeric ids sorted as numbers). Value rules (labels in [0, 1], exposure 0/1, finite numbers,
...) are :class:`~causalrec.data.InteractionData`'s, reported here with the file's lines.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic_files import AtomicTable, parse_float_field, read_atomic
from .schema import DataValidationError, InteractionData

USER_ID, ITEM_ID = "user_id", "item_id"
#: .inter fields read as numbers whatever their declared type
NUMERIC_FIELDS = ("label", "rating", "timestamp", "exposure", "propensity", "position")


def check_id_field(table: AtomicTable, id_field: str) -> np.ndarray:
    """The raw ids of ``id_field`` as strings: a ``token`` field with no empty value."""
    if table.types[id_field] != "token":
        raise DataValidationError(
            f"id field declared {id_field}:{table.types[id_field]}; ids are "
            f"{id_field}:token", source=table.path, column=id_field, lines=[1])
    ids = table.frame[id_field].astype(str).to_numpy(dtype=object)
    empty = np.array([not v.strip() for v in ids], dtype=bool)
    if empty.any():
        raise DataValidationError(
            f"{int(empty.sum())} empty ids; every row needs a {id_field}", source=table.path,
            column=id_field, lines=table.lines(np.flatnonzero(empty)))
    return ids


def sorted_ids(values: np.ndarray) -> np.ndarray:
    """Unique ids sorted numerically when all are integers, lexicographically otherwise."""
    uniq = pd.unique(pd.Series(values, dtype=object))
    s = pd.Series(uniq, dtype=object).astype(str)
    if len(s) and s.str.fullmatch(r"-?\d+").all():
        order = np.argsort(s.astype(np.int64).to_numpy(), kind="stable")
    else:
        order = np.argsort(s.to_numpy(dtype=str), kind="stable")
    return s.to_numpy(dtype=object)[order]


def index_table(table: AtomicTable, id_field: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Ids (in file order) and the feature table indexed 0..n-1; rejects duplicate ids."""
    if id_field not in table.types:
        raise DataValidationError(f"missing id field {id_field!r} (header has "
                                  f"{list(table.types)})", source=table.path, column=id_field,
                                  lines=[1])
    ids = check_id_field(table, id_field)
    dup = pd.Series(ids).duplicated(keep="first").to_numpy()
    if dup.any():
        raise DataValidationError(
            f"{int(dup.sum())} duplicate ids (e.g. {list(ids[dup][:3])}); each id must have "
            "one row", source=table.path, column=id_field,
            lines=table.lines(np.flatnonzero(dup)))
    feats = table.frame.drop(columns=[id_field]).reset_index(drop=True)
    return ids, feats


def map_ids(raw: np.ndarray, ids: np.ndarray, source: str, column: str,
            what: str, first_line: int = 2) -> np.ndarray:
    """Integer index of each raw id in ``ids``; unknown ids raise naming the file lines
    (``first_line``: the line of row 0)."""
    lookup = pd.Index(ids)
    idx = lookup.get_indexer(pd.Series(raw, dtype=object).astype(str))
    bad = idx < 0
    if bad.any():
        raise DataValidationError(
            f"{int(bad.sum())} interactions reference unknown {what} ids "
            f"(e.g. {list(pd.unique(np.asarray(raw, dtype=object)[bad]))[:5]}) that the "
            f"{what} file does not list", source=source, column=column,
            lines=[int(i) + first_line for i in np.flatnonzero(bad)[:5]])
    return idx.astype(np.int64)


def from_atomic_tables(inter: AtomicTable, user: AtomicTable | None = None,
                       item: AtomicTable | None = None, name: str = "recbole") -> InteractionData:
    """Build InteractionData from parsed atomic tables (see the module docstring)."""
    for f in (USER_ID, ITEM_ID):
        if f not in inter.types:
            raise DataValidationError(f"missing required field {f!r} (header has "
                                      f"{list(inter.types)})", source=inter.path, column=f,
                                      lines=[1])
    if len(inter) == 0:
        raise DataValidationError("no interactions: the file has a header but no rows",
                                  source=inter.path)
    df = inter.frame
    raw_users, raw_items = check_id_field(inter, USER_ID), check_id_field(inter, ITEM_ID)
    user_features = item_features = None
    if user is not None:
        user_ids, user_features = index_table(user, USER_ID)
    else:
        user_ids = sorted_ids(raw_users)
    if item is not None:
        item_ids, item_features = index_table(item, ITEM_ID)
    else:
        item_ids = sorted_ids(raw_items)
    out = pd.DataFrame({
        "user": map_ids(raw_users, user_ids, inter.path, USER_ID, "user", inter.first_line),
        "item": map_ids(raw_items, item_ids, inter.path, ITEM_ID, "item", inter.first_line),
    })
    ignored = []
    for col, typ in inter.types.items():
        if col in (USER_ID, ITEM_ID):
            continue
        if col in NUMERIC_FIELDS:
            out[col] = _numeric_field(inter, col, typ)
        elif typ == "float":
            out[col] = df[col].to_numpy(np.float64)
        elif col == "policy":
            out[col] = df[col].astype(str).to_numpy(dtype=object)
        else:
            ignored.append(f"{col}:{typ}")
    if ignored:
        warnings.warn(f"{inter.path}: fields {ignored} are not carried into the interactions "
                      "(only numeric fields and policy are)", stacklevel=2)
    if "label" in out.columns and not out["label"].isna().any():
        out["label"] = out["label"].astype(np.float32)
    try:
        return InteractionData(
            interactions=out, n_users=len(user_ids), n_items=len(item_ids),
            user_ids=user_ids, item_ids=item_ids, user_features=user_features,
            item_features=item_features, name=name, source=inter.path,
        )
    except DataValidationError as e:
        # an interactions row is a data line of the file: report lines, with file field names
        if e.column in out.columns and e.rows and e.unit == "rows":
            column = {"user": USER_ID, "item": ITEM_ID}.get(e.column, e.column)
            raise DataValidationError(e.detail, source=inter.path, column=column,
                                      lines=inter.lines(e.rows)) from None
        raise


def _numeric_field(inter: AtomicTable, col: str, typ: str) -> np.ndarray:
    """A field causalrec reads as numbers (``label:token`` included); ``position`` as
    integers when every value is a whole number (else the schema names the rows)."""
    if typ in ("token_seq", "float_seq"):
        raise DataValidationError(f"{col} is declared {col}:{typ}; it holds one number per "
                                  f"row ({col}:float)", source=inter.path, column=col, lines=[1])
    s = inter.frame[col]
    v = s.to_numpy(np.float64) if typ == "float" else \
        parse_float_field(s.astype(str), inter.path, col)
    if col == "position" and np.isfinite(v).all() and (v == np.round(v)).all():
        return v.astype(np.int64)
    return v


def load_atomic_dataset(path: str | os.PathLike, dataset: str | None = None,
                        seq_separator: str = " ") -> InteractionData:
    """Load a RecBole dataset folder ``path`` holding ``DATASET.inter`` (and optionally
    ``.user`` / ``.item``); ``dataset`` defaults to the folder name."""
    folder = Path(path).expanduser()
    dataset = dataset or folder.name
    inter_path = folder / f"{dataset}.inter"
    if not inter_path.exists():
        raise DataValidationError(f"no {dataset}.inter in {folder}", source=str(inter_path))
    inter = read_atomic(inter_path, seq_separator)
    user = item = None
    if (folder / f"{dataset}.user").exists():
        user = read_atomic(folder / f"{dataset}.user", seq_separator)
    if (folder / f"{dataset}.item").exists():
        item = read_atomic(folder / f"{dataset}.item", seq_separator)
    return from_atomic_tables(inter, user, item, name=dataset)
