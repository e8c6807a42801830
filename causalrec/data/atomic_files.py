"""RecBole atomic files: ``.inter`` / ``.user`` / ``.item`` tables with typed headers.

The format (Zhao et al., "RecBole: Towards a Unified, Comprehensive and Efficient Framework
for Recommendation Algorithms", CIKM 2021) is a tab-separated table whose header names each
field and its type, ``name:type``, with type one of

* ``token``      a categorical id, kept as a string;
* ``float``      a number (an empty field is a missing value, NaN);
* ``token_seq``  a space-separated sequence of tokens, read as a tuple of strings;
* ``float_seq``  a space-separated sequence of numbers, read as a tuple of floats.

:func:`read_atomic` is strict: an unknown type, a header without types, a row with the wrong
number of fields (a truncated file), a number that does not parse or an empty file raise
:class:`~causalrec.data.DataValidationError` naming the file, the column and the line
numbers (1-based, the header is line 1). :func:`write_atomic` writes the same format
atomically, so ``read_atomic(write_atomic(table))`` gives the table back.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import DataValidationError

FIELD_TYPES = ("token", "float", "token_seq", "float_seq")


@dataclass
class AtomicTable:
    """A parsed atomic file: the table (columns named without type suffixes) and the types."""

    frame: pd.DataFrame
    types: dict[str, str]
    path: str

    def __len__(self) -> int:
        return len(self.frame)


def _lines(mask: np.ndarray) -> list[int]:
    """1-based file line numbers of data rows flagged by ``mask`` (header is line 1)."""
    return [int(i) + 2 for i in np.flatnonzero(mask)[:5]]


def _fields_per_line(body: str) -> np.ndarray:
    """Number of tab-separated fields on each line of ``body`` (vectorised over bytes)."""
    if body.strip() == "":
        return np.array([], dtype=np.int64)
    a = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(a == 10)
    if len(a) and a[-1] != 10:
        ends = np.r_[ends, len(a)]
    starts = np.r_[0, ends[:-1] + 1]
    tabs = np.r_[0, np.cumsum(a == 9, dtype=np.int64)]
    return tabs[ends] - tabs[starts] + 1


def parse_header(header: str, path: str) -> dict[str, str]:
    """Parse ``name:type<TAB>name:type...`` into an ordered {name: type} dict."""
    fields = header.rstrip("\r\n").split("\t")
    if len(fields) == 1 and any(sep in fields[0] for sep in (",", ";", "|", " ")):
        for sep in (",", ";", "|", " "):
            if sep in fields[0] and ":" in fields[0]:
                raise DataValidationError(
                    f"wrong delimiter: the header is one field {fields[0][:80]!r}; atomic files "
                    f"are tab-separated (it looks {sep!r}-separated)", source=path, lines=[1])
    types: dict[str, str] = {}
    for f in fields:
        name, sep, typ = f.partition(":")
        if not sep or not name:
            raise DataValidationError(
                f"header field {f!r} is not 'name:type' (types: {', '.join(FIELD_TYPES)})",
                source=path, column=f, lines=[1])
        if typ not in FIELD_TYPES:
            raise DataValidationError(
                f"unknown field type {typ!r}; expected one of {', '.join(FIELD_TYPES)}",
                source=path, column=name, lines=[1])
        if name in types:
            raise DataValidationError("duplicate field name in the header", source=path,
                                      column=name, lines=[1])
        types[name] = typ
    return types


def read_atomic(path: str | os.PathLike, seq_separator: str = " ",
                columns: list[str] | None = None) -> AtomicTable:
    """Read one atomic file (``.inter``, ``.user``, ``.item``, or any other suffix).

    Args:
        path: the file.
        seq_separator: separator inside ``token_seq`` / ``float_seq`` fields (RecBole: space).
        columns: if given, fields that must be present (others are still read).

    Returns:
        :class:`AtomicTable` with ``float`` columns as float64, ``token`` columns as strings,
        sequence columns as tuples.
    """
    path = Path(path)
    src = str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise DataValidationError(f"not UTF-8 text ({e.reason} at byte {e.start})",
                                  source=src, lines=[line]) from None
    if not text.strip():
        raise DataValidationError("empty file: no header and no rows", source=src)
    text = text.replace("\r\n", "\n")
    header, _, body = text.partition("\n")
    body = body.rstrip("\n") + "\n" if body.strip("\n") else ""  # trailing blank lines
    types = parse_header(header, src)
    names = list(types)
    nfields = _fields_per_line(body)
    for cmp, what in ((nfields < len(names), "fewer"), (nfields > len(names), "more")):
        if cmp.any():
            first = int(np.flatnonzero(cmp)[0])
            column = names[int(nfields[first])] if what == "fewer" else None
            raise DataValidationError(
                f"{int(cmp.sum())} rows have {what} fields than the header's {len(names)} "
                "(truncated file, blank line or wrong delimiter?)", source=src, column=column,
                lines=_lines(cmp))
    if len(nfields) == 0:
        df = pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    else:
        df = pd.read_csv(io.StringIO(body), sep="\t", header=None, names=names, dtype=str,
                         keep_default_na=False, na_values=[], quoting=csv.QUOTE_NONE,
                         engine="c", skip_blank_lines=False, index_col=False)
    out = {}
    for name, typ in types.items():
        s = df[name]
        if typ == "token":
            out[name] = s.to_numpy(dtype=object)
        elif typ == "float":
            v = pd.to_numeric(s.replace("", np.nan), errors="coerce")
            bad = (v.isna() & (s != "") & ~s.str.lower().isin(["nan", "na"])).to_numpy()
            if bad.any():
                raise DataValidationError(
                    f"{int(bad.sum())} values are not numbers (e.g. {s[bad].iloc[:3].tolist()})",
                    source=src, column=name, lines=_lines(bad))
            out[name] = v.to_numpy(dtype=np.float64)
        elif typ == "token_seq":
            out[name] = np.array([tuple(x for x in v.split(seq_separator) if x) for v in s],
                                 dtype=object) if len(s) else np.array([], dtype=object)
        else:  # float_seq
            vals = np.empty(len(s), dtype=object)
            for i, v in enumerate(s):
                try:
                    vals[i] = tuple(float(x) for x in v.split(seq_separator) if x)
                except ValueError:
                    raise DataValidationError(
                        f"float_seq value {v[:40]!r} has a non-number", source=src,
                        column=name, lines=[i + 2]) from None
            out[name] = vals
    frame = pd.DataFrame(out, columns=names)
    for name in columns or ():
        if name not in types:
            raise DataValidationError(
                f"missing required field {name!r} (header has {names})", source=src, column=name,
                lines=[1])
    return AtomicTable(frame=frame, types=types, path=src)


def _format_float(v: float) -> str:
    if v != v:  # NaN -> empty field
        return ""
    if float(v).is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(float(v))


def format_atomic(frame: pd.DataFrame, types: dict[str, str], seq_separator: str = " ") -> str:
    """Render a table as atomic-file text (header + rows)."""
    for name, typ in types.items():
        if typ not in FIELD_TYPES:
            raise DataValidationError(f"unknown field type {typ!r}", column=name)
        if name not in frame.columns:
            raise DataValidationError(f"column {name!r} is not in the table", column=name)
    cols = []
    for name, typ in types.items():
        s = frame[name]
        if typ == "token":
            vals = s.astype(str).tolist()
        elif typ == "float":
            vals = [_format_float(v) for v in pd.to_numeric(s).to_numpy(dtype=np.float64)]
        elif typ == "token_seq":
            vals = [seq_separator.join(map(str, v)) for v in s]
        else:
            vals = [seq_separator.join(_format_float(x) for x in v) for v in s]
        for i, v in enumerate(vals):
            if "\t" in v or "\n" in v:
                raise DataValidationError("value contains a tab or newline", column=name,
                                          rows=[i])
        cols.append(vals)
    lines = ["\t".join(f"{n}:{t}" for n, t in types.items())]
    lines.extend("\t".join(row) for row in zip(*cols))
    return "\n".join(lines) + "\n"


def write_atomic(path: str | os.PathLike, frame: pd.DataFrame, types: dict[str, str],
                 seq_separator: str = " ") -> Path:
    """Write ``frame`` as an atomic file (atomically: no half-written file on a crash)."""
    from causalrec.atomic import write_text

    return write_text(path, format_atomic(frame, types, seq_separator))
