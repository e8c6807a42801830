"""Your interactions from a file: ``load("table", path=..., columns=...)``.

CSV (``.csv``, ``.tsv``), Parquet (``.parquet``, ``.pq``) and JSON Lines (``.jsonl``,
``.ndjson``, ``.json``), optionally compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst``),
go through one loader into :func:`causalrec.data.frame.from_frame`. ``columns`` maps roles
to your column names, e.g. ``{"user": "uid", "item": "sku", "label": "click", "text":
"review"}``; without it, ``user_id`` / ``item_id`` are the ids and columns named like a role
(``label``, ``rating``, ``timestamp``, ``exposure``, ``propensity``, ``policy``,
``position``, ``text``) play it. Id and text columns of CSV / JSON files are read as
strings, so ids such as ``007`` keep their leading zeros.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .frame import ROLES, from_frame
from .schema import DataValidationError, InteractionData

FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
COMPRESSION = (".gz", ".bz2", ".xz", ".zst", ".zip")


def table_format(path: Path, fmt: str | None = None) -> str:
    """The format of ``path`` (from its suffix unless ``fmt`` is given)."""
    if fmt is not None:
        if fmt not in set(FORMATS.values()):
            raise DataValidationError(f"unknown table format {fmt!r}; one of "
                                      f"{sorted(set(FORMATS.values()))}", source=str(path))
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSION:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FORMATS:
        raise DataValidationError(f"cannot tell the format from the name; use one of "
                                  f"{sorted(FORMATS)} or pass format=", source=str(path))
    return FORMATS[suffixes[-1]]


def _header(path: Path, fmt: str) -> list[str] | None:
    if fmt in ("csv", "tsv"):
        return list(pd.read_csv(path, nrows=0, sep="\t" if fmt == "tsv" else ",").columns)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return None  # JSON Lines: fields may differ per line; checked after reading


def read_table(path: str | os.PathLike, columns: list[str] | None = None,
               text_columns: tuple[str, ...] = (), fmt: str | None = None) -> pd.DataFrame:
    """Read ``columns`` (all when ``None``) of a CSV / Parquet / JSON Lines file;
    ``text_columns`` are read as strings (ids, reviews)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataValidationError("no such file", source=str(path))
    fmt = table_format(path, fmt)
    try:
        header = _header(path, fmt)
        if header is not None and columns is not None:
            missing = [c for c in columns if c not in header]
            if missing:
                raise DataValidationError(f"no column(s) {missing} (the file has {header})",
                                          source=str(path), column=missing[0], lines=[1])
        if fmt in ("csv", "tsv"):
            df = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", usecols=columns,
                             dtype={c: str for c in text_columns})
        elif fmt == "parquet":
            df = pd.read_parquet(path, columns=columns)
        else:
            df = pd.read_json(path, lines=True, dtype=False)
            df = df.rename(columns=str)
            if columns is not None:
                missing = [c for c in columns if c not in df.columns]
                if missing:
                    raise DataValidationError(f"no field(s) {missing} in the records (fields: "
                                              f"{list(df.columns)})", source=str(path),
                                              column=missing[0])
                df = df[columns]
            for c in text_columns:
                if c in df.columns and df[c].dtype != object:
                    df[c] = df[c].astype(str).where(df[c].notna(), None)
    except DataValidationError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise DataValidationError(f"cannot read as {fmt}: {err}", source=str(path)) from err
    return df


def _role_columns(columns, header: list[str] | None) -> dict[str, str]:
    roles = {str(k): (None if v is None else str(v)) for k, v in dict(columns or {}).items()}
    unknown = sorted(set(roles) - {"user", "item", *ROLES})
    if unknown:
        raise DataValidationError(f"unknown column roles {unknown}; roles are user, item, "
                                  f"{', '.join(ROLES)}", column="columns")
    roles.setdefault("user", "user_id")
    roles.setdefault("item", "item_id")
    if columns is None and header is not None:  # columns named like a role play it
        roles.update({r: r for r in ROLES if r in header})
    return {r: c for r, c in roles.items() if c is not None}


def _table_arg(table, key: str):
    if table is None or isinstance(table, pd.DataFrame):
        return table
    return read_table(table, text_columns=(key,))


def load_table(path: str | os.PathLike, columns: dict | None = None, items=None, users=None,
               item_key: str | None = None, user_key: str | None = None, keep=(),
               format: str | None = None, text_templates: dict | None = None,
               preprocess: dict | None = None, name: str | None = None) -> InteractionData:
    """Load interactions from a CSV / Parquet / JSON Lines file (see the module docstring).

    Args:
        path: the interactions file.
        columns: role -> column name (``user``, ``item``, ``label``, ``rating``,
            ``timestamp``, ``exposure``, ``propensity``, ``policy``, ``position``, ``text``).
        items, users: a file (any of the formats) or DataFrame with one row per id; the
            id column is ``item_key`` / ``user_key`` (default: the interactions' id column).
        keep: further columns carried into the interactions.
        format: ``csv``, ``tsv``, ``parquet`` or ``jsonl`` when the suffix does not say.
        text_templates, preprocess: as for :func:`~causalrec.data.frame.from_frame`.
        name: dataset name (default: the file's stem).
    """
    p = Path(path).expanduser()
    fmt = table_format(p, format) if p.is_file() else None
    header = _header(p, fmt) if fmt is not None and fmt != "jsonl" else None
    roles = _role_columns(columns, header)
    keep = list(keep or ())
    text_cols = tuple(roles[r] for r in ("user", "item", "text", "policy") if r in roles)
    if columns is None and fmt == "jsonl":
        df = read_table(p, None, text_cols, fmt)
        roles.update({r: r for r in ROLES if r in df.columns and r not in roles})
        df = df[[*dict.fromkeys([*roles.values(), *keep])]]
    else:
        df = read_table(p, list(dict.fromkeys([*roles.values(), *keep])), text_cols, format)
    items = _table_arg(items, item_key or roles["item"])
    users = _table_arg(users, user_key or roles["user"])
    role_args = {r: c for r, c in roles.items() if r not in ("user", "item")}
    return from_frame(df, roles["user"], roles["item"], **role_args, items=items, users=users,
                      item_key=item_key, user_key=user_key, keep=keep,
                      text_templates=None if text_templates is None else dict(text_templates),
                      preprocess=None if preprocess is None else dict(preprocess),
                      name=name or p.name.split(".")[0], source=str(p))
