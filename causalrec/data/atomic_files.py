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
    #: the file line of the first data row (2 under a header as in atomic files, 1 for a
    #: table built from a headerless file such as GroupLens ``u.data``), so errors name the
    #: right lines
    first_line: int = 2

    def __len__(self) -> int:
        return len(self.frame)

    def lines(self, rows) -> list[int]:
        """File line numbers (1-based) of table rows (0-based): the first five."""
        return [int(r) + self.first_line for r in list(rows)[:5]]


def _lines(mask: np.ndarray) -> list[int]:
    """1-based file line numbers of data rows flagged by ``mask`` (header is line 1)."""
    return [int(i) + 2 for i in np.flatnonzero(mask)[:5]]


def _fields_per_line(body: str) -> np.ndarray:
    """Number of tab-separated fields on each line of ``body`` (vectorised over bytes)."""
    if body == "":
        return np.array([], dtype=np.int64)
    a = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(a == 10)
    if len(a) and a[-1] != 10:
        ends = np.r_[ends, len(a)]
    starts = np.r_[0, ends[:-1] + 1]
    tabs = np.r_[0, np.cumsum(a == 9, dtype=np.int64)]
    return tabs[ends] - tabs[starts] + 1


def _looks_typed(field: str) -> bool:
    name, sep, typ = field.strip().partition(":")
    return bool(name) and bool(sep) and typ in FIELD_TYPES


def parse_header(header: str, path: str) -> dict[str, str]:
    """Parse ``name:type<TAB>name:type...`` into an ordered {name: type} dict."""
    fields = header.rstrip("\r\n").split("\t")
    if len(fields) == 1:
        for sep in (",", ";", "|", " "):
            parts = fields[0].split(sep)
            if len(parts) > 1 and sum(map(_looks_typed, parts)) >= 2:
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


def _decode(raw: bytes, src: str) -> str:
    """UTF-8 text with a leading byte-order mark removed and universal newlines (``\\r\\n``
    and a lone ``\\r``, as in old Mac files, both end a line) turned into ``\\n``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        head = raw[:e.start]
        line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
        raise DataValidationError(f"not UTF-8 text ({e.reason} at byte {e.start})",
                                  source=src, lines=[line]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_float_field(s: pd.Series, src: str, name: str) -> np.ndarray:
    """A ``float`` field: numbers, empty (or ``nan``) for missing; anything else, and
    numbers that are infinite or overflow float64 (a 400-digit number), is an error."""
    v = pd.to_numeric(s.replace("", np.nan), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(v)
    if bad.any():  # empty, "nan" and "na" are missing values; anything else is an error
        at = s[bad]
        bad[bad] = ~((at == "") | at.str.strip().str.lower().isin(["nan", "na"])).to_numpy()
    if bad.any():
        raise DataValidationError(
            f"{int(bad.sum())} values are not numbers (e.g. {s[bad].iloc[:3].tolist()})",
            source=src, column=name, lines=_lines(bad))
    inf = np.isinf(v)
    if inf.any():
        shown = [x if len(x) <= 24 else f"{x[:12]}...({len(x)} chars)" for x in s[inf].iloc[:3]]
        raise DataValidationError(
            f"{int(inf.sum())} values are infinite or too large for a float64 (e.g. {shown}); "
            "numbers must be finite", source=src, column=name, lines=_lines(inf))
    return v


def _parse_seq(s: pd.Series, typ: str, sep: str, src: str, name: str) -> np.ndarray:
    """``token_seq`` / ``float_seq`` fields as a 1-d object array of tuples (filled one by
    one: ``np.array`` of equal-length tuples would make a 2-d array)."""
    out = np.empty(len(s), dtype=object)
    for i, v in enumerate(s.tolist()):
        parts = tuple(x for x in v.split(sep) if x)
        if typ == "float_seq":
            try:
                parts = tuple(float(x) for x in parts)
            except ValueError:
                raise DataValidationError(
                    f"float_seq value {v[:40]!r} has a non-number", source=src,
                    column=name, lines=[i + 2]) from None
            if not all(np.isfinite(parts)):
                raise DataValidationError(
                    f"float_seq value {v[:40]!r} has a non-finite number (nan/inf)",
                    source=src, column=name, lines=[i + 2])
        out[i] = parts
    return out


def read_atomic(path: str | os.PathLike, seq_separator: str = " ",
                columns: list[str] | None = None) -> AtomicTable:
    """Read one atomic file (``.inter``, ``.user``, ``.item``, or any other suffix).

    A leading UTF-8 byte-order mark is skipped and ``\\r\\n`` / ``\\r`` line endings are
    read as ``\\n`` (files saved by Excel or old Mac tools are valid input).

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
    text = _decode(path.read_bytes(), src)
    if not text.strip():
        raise DataValidationError("empty file: no header and no rows", source=src)
    header, _, body = text.partition("\n")
    body = body.rstrip("\n") + "\n" if body.strip("\n") else ""  # trailing blank lines
    types = parse_header(header, src)
    names = list(types)
    for name in columns or ():
        if name not in types:
            raise DataValidationError(
                f"missing required field {name!r} (header has {names})", source=src, column=name,
                lines=[1])
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
        s = df[name].astype(object).reset_index(drop=True)
        if typ == "token":
            out[name] = s.to_numpy(dtype=object)
        elif typ == "float":
            out[name] = parse_float_field(s.astype(str), src, name)
        else:
            out[name] = _parse_seq(s, typ, seq_separator, src, name)
    frame = pd.DataFrame(out, columns=names)
    return AtomicTable(frame=frame, types=types, path=src)


def _format_float(v: float) -> str:
    if v != v:  # NaN -> empty field
        return ""
    if float(v).is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(float(v))


def _is_number(x) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return True


def _bad_chars(v: str) -> bool:
    return "\t" in v or "\n" in v or "\r" in v


def _check_name(name, source: str | None) -> None:
    if not isinstance(name, str) or not name or ":" in name or _bad_chars(name) \
            or name.startswith("\ufeff"):
        raise DataValidationError(
            f"field name {name!r} cannot be written: names are non-empty strings without ':', "
            "tabs, line breaks or a leading byte-order mark", source=source, column=str(name))


def _format_column(s: pd.Series, name: str, typ: str, sep: str, source: str | None) -> list:
    """One column as field strings; anything that would not read back as itself is an error."""
    def fail(message: str, bad: list[int]) -> None:
        raise DataValidationError(message, source=source, column=name, rows=bad[:5])

    if typ == "float":
        try:
            v = pd.to_numeric(s).to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            fail("a float field holds non-numbers", [i for i, x in enumerate(s)
                                                      if not _is_number(x)])
        inf = np.flatnonzero(np.isinf(v)).tolist()
        if inf:
            fail("infinite values cannot be written (read_atomic rejects them)", inf)
        return [_format_float(x) for x in v]
    if typ == "token":
        vals = ["" if x is None or (isinstance(x, float) and x != x) else str(x) for x in s]
        bad = [i for i, v in enumerate(vals) if _bad_chars(v)]
        if bad:
            fail("value contains a tab or line break", bad)
        return vals
    vals, bad = [], []
    for i, seq in enumerate(s):
        if isinstance(seq, str) or not hasattr(seq, "__iter__"):
            fail(f"a {typ} value must be a sequence (tuple/list), got {type(seq).__name__}", [i])
        if typ == "token_seq":
            parts = [str(x) for x in seq]
            if any(x == "" or sep in x or _bad_chars(x) for x in parts):
                bad.append(i)
        else:
            nums = [float(x) for x in seq]
            if not all(np.isfinite(nums)):
                bad.append(i)
            parts = [_format_float(x) for x in nums]
        vals.append(sep.join(parts))
    if bad:
        fail(f"{typ} items must be non-empty{' and finite' if typ == 'float_seq' else ''}, "
             f"without the separator {sep!r}, tabs or line breaks", bad)
    return vals


def format_atomic(frame: pd.DataFrame, types: dict[str, str], seq_separator: str = " ",
                  source: str | None = None) -> str:
    """Render a table as atomic-file text (header + rows); refuses values that would not
    read back as themselves (tabs or line breaks, infinite numbers, empty sequence items)."""
    for name, typ in types.items():
        _check_name(name, source)
        if typ not in FIELD_TYPES:
            raise DataValidationError(f"unknown field type {typ!r}", source=source, column=name)
        if name not in frame.columns:
            raise DataValidationError(f"column {name!r} is not in the table", source=source,
                                      column=name)
    cols = [_format_column(frame[name].reset_index(drop=True), name, typ, seq_separator, source)
            for name, typ in types.items()]
    if len(cols) == 1:
        blank = [i for i, v in enumerate(cols[0]) if v == ""]
        if blank:
            raise DataValidationError(
                "a one-field table cannot hold an empty value (it would be a blank line)",
                source=source, column=next(iter(types)), rows=blank[:5])
    lines = ["\t".join(f"{n}:{t}" for n, t in types.items())]
    lines.extend("\t".join(row) for row in zip(*cols))
    return "\n".join(lines) + "\n"


def write_atomic(path: str | os.PathLike, frame: pd.DataFrame, types: dict[str, str],
                 seq_separator: str = " ") -> Path:
    """Write ``frame`` as an atomic file (atomically: no half-written file on a crash); the
    table is checked first, so a refused table leaves any existing file unchanged."""
    from causalrec.atomic import write_text

    return write_text(path, format_atomic(frame, types, seq_separator, source=str(path)))
