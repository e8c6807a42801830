"""Read run records back as a table: one row per run, overrides and metrics as columns."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from .record import ERROR_FILE, RECORD_FILE


def find_records(paths: Iterable[str | os.PathLike], include_errors: bool = False) -> list[Path]:
    """Every ``metrics.json`` (and, if asked, ``error.json``) under the given paths."""
    names = {RECORD_FILE, ERROR_FILE} if include_errors else {RECORD_FILE}
    found: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise FileNotFoundError(f"no such run directory or record: {p}")
        if p.is_file():
            if p.name in names:
                found.append(p)
            continue
        for name in sorted(names):
            found.extend(sorted(p.rglob(name)))
    return found


def _parse_override(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    key = key.lstrip("+~")
    try:
        parsed: object = json.loads(value)
    except ValueError:
        parsed = value
    return key, parsed


def load_runs(paths: str | os.PathLike | Iterable[str | os.PathLike],
              include_errors: bool = False, progress: bool = False):
    """A pandas DataFrame with one row per run record found under ``paths``.

    Columns: ``run_dir``, ``status`` (ok / failed), ``seed``, ``task``, ``wall_time_s``,
    ``peak_memory_mb``, ``config_hash``, one column per command-line override (e.g.
    ``head``, ``dataset``) and one per metric (e.g. ``test/ndcg@10``).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    records = find_records(paths, include_errors=include_errors)
    rows = []
    override_keys: dict[str, None] = {}
    metric_keys: dict[str, None] = {}
    for rec in tqdm(records, desc="reading runs", unit="run", disable=not progress):
        try:
            data = json.loads(rec.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"unreadable run record {rec}: {exc}") from exc
        if rec.name == ERROR_FILE and (rec.parent / RECORD_FILE).exists():
            continue
        row = {"run_dir": str(rec.parent), "status": "failed" if rec.name == ERROR_FILE else "ok",
               "seed": data.get("seed"), "task": data.get("task"),
               "wall_time_s": data.get("wall_time_s"), "peak_memory_mb": data.get("peak_memory_mb"),
               "config_hash": data.get("config_hash"), "error": data.get("error")}
        for ov in data.get("overrides", []):
            key, value = _parse_override(ov)
            if key not in ("seed",):
                row[key] = value
                override_keys[key] = None
        row.update(data.get("metrics", {}))
        metric_keys.update(dict.fromkeys(data.get("metrics", {})))
        rows.append(row)
    df = pd.DataFrame(rows)
    if not include_errors and "error" in df:
        df = df.drop(columns=["error"])
    df.attrs["override_keys"] = [k for k in override_keys if k not in metric_keys]
    df.attrs["metric_keys"] = list(metric_keys)
    return df
