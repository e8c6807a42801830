"""InteractionData: the contract every causalrec component reads.

Users and items are integer-indexed ``0..n-1``; ``user_ids`` / ``item_ids`` map the indices
back to the raw ids of the source. The interactions table has the integer columns ``user``
and ``item`` plus any of the optional columns below. Everything is validated on
construction: bad input raises :class:`DataValidationError` naming the source, the column
and example rows, and never silently becomes a wrong dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

#: the ``policy`` value of rows logged by a randomized policy (uniformly random exposure, the
#: intervened set of RecBole-Debias, the randomized tests of Coat / Yahoo! R3, KuaiRec's fully
#: observed matrix): the one word splits, heads and loaders use for them
RANDOMIZED = "random"

REQUIRED_COLUMNS = ("user", "item")
#: optional columns and the dtype kind they must have ("f" float, "i" integer, "b" bool)
OPTIONAL_COLUMNS = {
    "label": "f",
    "rating": "f",
    "timestamp": "f",
    "exposure": "f",
    "propensity": "f",
    "policy": "O",
    "position": "i",
}


class DataValidationError(ValueError):
    """Invalid input data. The message names the source file, the column and example rows."""

    def __init__(self, message: str, *, source: str | None = None, column: str | None = None,
                 rows: Any = None, lines: Any = None):
        self.source = source
        self.column = column
        #: the message without the "in FILE, column C, rows R" prefix
        self.detail = message
        #: ``rows`` are 0-based table rows; ``lines`` are 1-based lines of the source file
        #: (header = line 1). ``.rows`` holds whichever was given, ``.unit`` says which.
        self.unit = "lines" if lines is not None else "rows"
        given = lines if lines is not None else rows
        self.rows = None if given is None else [int(r) for r in list(given)[:5]]
        where = []
        if source:
            where.append(f"in {source}")
        if column:
            where.append(f"column {column!r}")
        if self.rows:
            where.append(f"{self.unit} {self.rows}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


def _example_rows(mask: np.ndarray | pd.Series) -> list[int]:
    idx = np.flatnonzero(np.asarray(mask))
    return [int(i) for i in idx[:5]]


def _examples(values: np.ndarray) -> list:
    """Up to five distinct offending values, as plain Python numbers."""
    out = []
    for v in np.asarray(values).tolist():
        if v not in out and not (v != v and any(o != o for o in out)):
            out.append(v)
        if len(out) == 5:
            break
    return out


#: allowed values of the optional numeric columns: (test, rule in words)
VALUE_RULES = {
    "label": (lambda v: (v >= 0) & (v <= 1), "labels lie in [0, 1] (1 positive, 0 negative)"),
    "exposure": (lambda v: (v == 0) | (v == 1), "exposure is 0 (not shown) or 1 (shown)"),
    "propensity": (lambda v: (v > 0) & (v <= 1), "propensities must lie in (0, 1]"),
    "position": (lambda v: v >= 0, "positions are non-negative integers (0 = top slot)"),
}
#: numeric columns that must be complete (no NaN)
COMPLETE_COLUMNS = ("label", "rating", "timestamp", "exposure", "propensity")


def _is_int_value(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _check_integer_column(s: pd.Series, src: str, col: str) -> None:
    """``user`` / ``item`` / ``position``: an integer dtype, with specific errors for missing
    values, fractions and non-numbers (each naming the rows at fault)."""
    missing = s.isna().to_numpy(dtype=bool)  # NaN, None and pandas' <NA> (nullable Int64)
    if missing.any():
        raise DataValidationError(
            f"{int(missing.sum())} missing values (NaN/None); every row needs an integer {col}",
            source=src, column=col, rows=_example_rows(missing))
    if pd.api.types.is_integer_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return
    if pd.api.types.is_float_dtype(s):
        v = s.to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v != np.round(v))
        if bad.any():
            raise DataValidationError(
                f"{int(bad.sum())} values are not whole numbers (e.g. {_examples(v[bad])}); "
                "expected integer indices", source=src, column=col, rows=_example_rows(bad))
        raise DataValidationError(
            f"wrong dtype {s.dtype}; expected integer indices (the values are whole numbers: "
            f"use .astype('int64'))", source=src, column=col)
    bad = ~s.map(_is_int_value).to_numpy(dtype=bool)
    raise DataValidationError(
        f"wrong dtype {s.dtype}; expected integer indices (e.g. "
        f"{[str(x) for x in s[bad].iloc[:3]]})", source=src, column=col,
        rows=_example_rows(bad) if bad.any() else None)


def _check_number_column(s: pd.Series, src: str, col: str) -> None:
    """A numeric column: numbers (or bools), finite, and complete where required."""
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        bad = (pd.to_numeric(s, errors="coerce").isna() & s.notna()).to_numpy()
        raise DataValidationError(
            f"wrong dtype {s.dtype}; expected numbers (e.g. {[str(x) for x in s[bad].iloc[:3]]})",
            source=src, column=col, rows=_example_rows(bad) if bad.any() else None)
    v = s.to_numpy(dtype=float)
    nan = np.isnan(v)
    if col in COMPLETE_COLUMNS and nan.any():
        raise DataValidationError(f"{int(nan.sum())} missing/NaN values in a required field",
                                  source=src, column=col, rows=_example_rows(nan))
    inf = np.isinf(v)
    if inf.any():
        raise DataValidationError(
            f"{int(inf.sum())} infinite values (e.g. {_examples(v[inf])}); numbers must be "
            "finite", source=src, column=col, rows=_example_rows(inf))


def _check_meta_json(meta: Any, source: str) -> None:
    """``meta`` holds JSON-able values only (DESIGN.md): it goes into run records as is."""
    import json

    if not isinstance(meta, dict):
        raise DataValidationError(f"meta must be a dict, got {type(meta).__name__}",
                                  source=source, column="meta")
    for key, value in meta.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(
                f"meta[{key!r}] is not JSON-serialisable ({exc}): meta holds plain numbers, "
                f"strings, lists and dicts only", source=source, column="meta") from None


@dataclass(eq=False)
class InteractionData:
    """Integer-indexed interactions with id maps, feature tables and text.

    Attributes:
        interactions: DataFrame with int64 ``user`` and ``item`` columns and optional
            ``label``/``rating``/``timestamp``/``exposure``/``propensity``/``policy``/``position``.
        n_users, n_items: sizes of the index spaces (ids ``0..n-1``).
        user_ids, item_ids: raw ids by index (object arrays of strings).
        user_features, item_features: DataFrames indexed ``0..n-1`` (optional).
        user_text, item_text: text per user / item (lists of strings, optional).
        name: dataset name; source: where it came from (a file path or generator), used in errors.
        meta: JSON-able metadata (e.g. a simulator's truth summary, protocol notes).
    """

    interactions: pd.DataFrame
    n_users: int
    n_items: int
    user_ids: np.ndarray | None = None
    item_ids: np.ndarray | None = None
    user_features: pd.DataFrame | None = None
    item_features: pd.DataFrame | None = None
    user_text: list[str] | None = None
    item_text: list[str] | None = None
    name: str = "data"
    source: str = "<memory>"
    meta: dict = field(default_factory=dict)
    #: split parts may be empty (e.g. no validation rows); whole datasets may not
    allow_empty: bool = False

    def __post_init__(self) -> None:
        if self.user_ids is None and _is_int_value(self.n_users):  # else validate() says why
            self.user_ids = np.arange(self.n_users).astype(str).astype(object)
        if self.item_ids is None and _is_int_value(self.n_items):
            self.item_ids = np.arange(self.n_items).astype(str).astype(object)
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        src = self.source
        df = self.interactions
        if not isinstance(df, pd.DataFrame):
            raise DataValidationError("interactions must be a pandas DataFrame", source=src)
        for what, n in (("n_users", self.n_users), ("n_items", self.n_items)):
            if not _is_int_value(n):
                raise DataValidationError(f"{what} must be an integer, got {n!r}", source=src,
                                          column=what)
        if self.n_users <= 0 or self.n_items <= 0:
            raise DataValidationError(
                f"empty data: n_users={self.n_users}, n_items={self.n_items}", source=src)
        if len(df) == 0 and not self.allow_empty:
            raise DataValidationError("empty data: no interactions", source=src)
        for col in REQUIRED_COLUMNS:
            if col not in df.columns:
                raise DataValidationError(
                    f"missing required column {col!r} (have {list(df.columns)})",
                    source=src, column=col)
        dup = df.columns.duplicated()
        if dup.any():
            raise DataValidationError(f"duplicate column names {list(df.columns[dup])}",
                                      source=src, column=str(df.columns[dup][0]))
        for col in df.columns:
            kind = OPTIONAL_COLUMNS.get(col, "i" if col in REQUIRED_COLUMNS else None)
            if kind == "i":
                _check_integer_column(df[col], src, col)
            elif kind == "f":
                _check_number_column(df[col], src, col)
        for col, n in (("user", self.n_users), ("item", self.n_items)):
            v = df[col].to_numpy()
            bad = (v < 0) | (v >= n)
            if bad.any():
                raise DataValidationError(
                    f"{int(bad.sum())} interactions reference unknown {col}s "
                    f"(valid indices 0..{n - 1}; e.g. {v[bad][:5].tolist()})",
                    source=src, column=col, rows=_example_rows(bad))
        for col, (ok, rule) in VALUE_RULES.items():
            if col in df.columns:
                v = df[col].to_numpy(dtype=float)
                bad = ~ok(v)
                if bad.any():
                    raise DataValidationError(
                        f"{int(bad.sum())} values outside the valid range: {rule}; found "
                        f"{_examples(df[col].to_numpy()[bad])}", source=src, column=col,
                        rows=_example_rows(bad))
        for ids, n, what in ((self.user_ids, self.n_users, "user_ids"),
                             (self.item_ids, self.n_items, "item_ids")):
            if len(ids) != n:
                raise DataValidationError(f"{what} has {len(ids)} entries but n={n}", source=src,
                                          column=what)
            empty = np.array([x is None or x != x or str(x).strip() == "" for x in ids],
                             dtype=bool)
            if empty.any():
                raise DataValidationError(f"{int(empty.sum())} empty or missing ids", source=src,
                                          column=what, rows=_example_rows(empty))
            dup = pd.Series(ids).duplicated().to_numpy()
            if dup.any():
                raise DataValidationError(f"duplicate ids {list(np.asarray(ids)[dup][:5])}",
                                          source=src, column=what, rows=_example_rows(dup))
        for table, n, what in ((self.user_features, self.n_users, "user_features"),
                               (self.item_features, self.n_items, "item_features")):
            if table is None:
                continue
            if not isinstance(table, pd.DataFrame):
                raise DataValidationError(f"{what} must be a DataFrame, got "
                                          f"{type(table).__name__}", source=src, column=what)
            if len(table) != n:
                raise DataValidationError(f"{what} has {len(table)} rows but n={n}", source=src,
                                          column=what)
            dup = table.index.duplicated()
            if dup.any():
                raise DataValidationError(
                    f"duplicate ids in a feature table: {list(table.index[dup][:5])}",
                    source=src, column=what, rows=_example_rows(dup))
        for text, n, what in ((self.user_text, self.n_users, "user_text"),
                              (self.item_text, self.n_items, "item_text")):
            if text is not None and len(text) != n:
                raise DataValidationError(f"{what} has {len(text)} entries but n={n}",
                                          source=src, column=what)
        _check_meta_json(self.meta, src)

    # ------------------------------------------------------------------ helpers
    @classmethod
    def from_frame(cls, df: pd.DataFrame, user: str, item: str, **columns) -> InteractionData:
        """Build from a DataFrame with raw ids (strings or integers): see
        :func:`causalrec.data.frame.from_frame` for the column roles and options."""
        from .frame import from_frame

        return from_frame(df, user, item, **columns)

    def __len__(self) -> int:
        return len(self.interactions)

    @property
    def target_column(self) -> str | None:
        for col in ("label", "rating"):
            if col in self.interactions.columns:
                return col
        return None

    def subset(self, rows: np.ndarray | pd.Series, name: str | None = None) -> InteractionData:
        """A new InteractionData with only the given interaction rows (same id spaces)."""
        inter = self.interactions.iloc[np.asarray(rows)] if np.asarray(rows).dtype != bool \
            else self.interactions[np.asarray(rows)]
        return replace(self, interactions=inter.reset_index(drop=True),
                       name=name or self.name, meta=dict(self.meta), allow_empty=True)

    def with_interactions(self, interactions: pd.DataFrame, **changes) -> InteractionData:
        return replace(self, interactions=interactions.reset_index(drop=True), **changes)

    def csr(self, positive_only: bool = True):
        """User x item scipy CSR matrix of (positive) interactions, values 1."""
        import scipy.sparse as sp

        df = self.positives() if positive_only else self.interactions
        m = sp.csr_matrix(
            (np.ones(len(df), dtype=np.float32), (df["user"].to_numpy(), df["item"].to_numpy())),
            shape=(self.n_users, self.n_items))
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def positives(self) -> pd.DataFrame:
        """The positive rows: ``label > 0`` when the target is a label, else every row (a
        rating is an observed preference). The one positive-rows filter."""
        df = self.interactions
        if self.target_column == "label":
            return df[df["label"] > 0]
        return df

    def popularity(self, by: str = "item", positives_only: bool = False) -> np.ndarray:
        """Interaction count per item (``by="item"``, length n_items) or per user, over all
        logged rows or over the positive rows only. The one popularity count."""
        if by not in ("item", "user"):
            raise ValueError(f"popularity by must be 'item' or 'user', got {by!r}")
        df = self.positives() if positives_only else self.interactions
        n = self.n_items if by == "item" else self.n_users
        return np.bincount(df[by].to_numpy(), minlength=n)

    def item_popularity(self) -> np.ndarray:
        """Interaction count per item over all logged rows (length n_items)."""
        return self.popularity("item")

    def fingerprint(self) -> str:
        """A sha256 over the interactions table and sizes: identifies the exact data."""
        import hashlib

        h = hashlib.sha256()
        h.update(f"{self.name}|{self.n_users}|{self.n_items}|".encode())
        h.update(pd.util.hash_pandas_object(self.interactions, index=False).to_numpy().tobytes())
        return h.hexdigest()

    def summary(self) -> dict:
        return {"name": self.name, "users": self.n_users, "items": self.n_items,
                "interactions": len(self.interactions), "source": self.source}
