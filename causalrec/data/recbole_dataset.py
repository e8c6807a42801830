"""A RecBole dataset folder (``NAME.inter`` [+ ``NAME.user``, ``NAME.item``]) as InteractionData.

Field mapping (RecBole's defaults, Zhao et al., CIKM 2021): ``user_id`` and ``item_id`` are
the ids, ``rating``, ``label`` and ``timestamp`` keep their names; any other numeric
``.inter`` field (e.g. ``propensity``, ``exposure``) is carried as a column. Users and
items are indexed in the order of the ``.user`` / ``.item`` files when present (every id in
``.inter`` must then appear there, and each only once), otherwise in sorted id order
(numeric ids sorted as numbers).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic_files import AtomicTable, read_atomic
from .schema import DataValidationError, InteractionData

USER_ID, ITEM_ID = "user_id", "item_id"


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
    ids = table.frame[id_field].astype(str).to_numpy(dtype=object)
    dup = pd.Series(ids).duplicated(keep="first").to_numpy()
    if dup.any():
        raise DataValidationError(
            f"{int(dup.sum())} duplicate ids (e.g. {list(ids[dup][:3])}); each id must have "
            "one row", source=table.path, column=id_field,
            lines=[int(i) + 2 for i in np.flatnonzero(dup)[:5]])
    feats = table.frame.drop(columns=[id_field]).reset_index(drop=True)
    return ids, feats


def map_ids(raw: np.ndarray, ids: np.ndarray, source: str, column: str,
            what: str) -> np.ndarray:
    """Integer index of each raw id in ``ids``; unknown ids raise naming the rows."""
    lookup = pd.Index(ids)
    idx = lookup.get_indexer(pd.Series(raw, dtype=object).astype(str))
    bad = idx < 0
    if bad.any():
        raise DataValidationError(
            f"{int(bad.sum())} interactions reference unknown {what} ids "
            f"(e.g. {list(pd.unique(np.asarray(raw, dtype=object)[bad]))[:5]}) that the "
            f"{what} file does not list", source=source, column=column,
            lines=[int(i) + 2 for i in np.flatnonzero(bad)[:5]])
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
    user_features = item_features = None
    if user is not None:
        user_ids, user_features = index_table(user, USER_ID)
    else:
        user_ids = sorted_ids(df[USER_ID].to_numpy())
    if item is not None:
        item_ids, item_features = index_table(item, ITEM_ID)
    else:
        item_ids = sorted_ids(df[ITEM_ID].to_numpy())
    out = pd.DataFrame({
        "user": map_ids(df[USER_ID].to_numpy(), user_ids, inter.path, USER_ID, "user"),
        "item": map_ids(df[ITEM_ID].to_numpy(), item_ids, inter.path, ITEM_ID, "item"),
    })
    for col, typ in inter.types.items():
        if col in (USER_ID, ITEM_ID):
            continue
        if typ == "float":
            out[col] = df[col].to_numpy(np.float64)
        elif col == "policy":
            out[col] = df[col].astype(str).to_numpy(dtype=object)
        elif col == "position" and typ == "token":
            out[col] = pd.to_numeric(df[col]).to_numpy(np.int64)
    for col in ("label", "rating", "propensity", "exposure"):
        if col in out.columns:
            v = out[col].to_numpy(np.float64)
            nan = np.isnan(v)
            if nan.any():
                raise DataValidationError(
                    f"{int(nan.sum())} missing/NaN values in a required field", source=inter.path,
                    column=col, lines=np.flatnonzero(nan) + 2)
            if col == "propensity":
                bad = ~((v > 0) & (v <= 1))
                if bad.any():
                    raise DataValidationError(
                        f"propensities must lie in (0, 1]; found {v[bad][:5].tolist()}",
                        source=inter.path, column=col, lines=np.flatnonzero(bad) + 2)
            out[col] = v.astype(np.float32 if col == "label" else np.float64)
    return InteractionData(
        interactions=out, n_users=len(user_ids), n_items=len(item_ids),
        user_ids=user_ids, item_ids=item_ids, user_features=user_features,
        item_features=item_features, name=name, source=inter.path,
    )


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
