"""Read run records back as a table: one row per run, overrides and metrics as columns;
any key of a run's resolved ``config.yaml`` can be added as a column."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .record import CONFIG_FILE, ERROR_FILE, RECORD_FILE


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
              include_errors: bool = False, progress: bool = False,
              config_keys: Sequence[str] = ()):
    """A pandas DataFrame with one row per run record found under ``paths``.

    Columns: ``run_dir``, ``status`` (ok / failed), ``seed``, ``task``, ``wall_time_s``,
    ``peak_memory_mb``, ``config_hash``, ``data_fingerprint``, one column per command-line
    (or :func:`causalrec.experiment.run`) override (e.g. ``head``, ``dataset``), one per
    metric (e.g. ``test/ndcg@10``) and one per entry of ``config_keys`` (dotted keys of each
    run's resolved ``config.yaml``, e.g. ``head._target_``; see ``add_config_columns`` in this module).
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
               "config_hash": data.get("config_hash"),
               "data_fingerprint": data.get("data_fingerprint"), "error": data.get("error")}
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
    if config_keys and not df.empty:
        df = add_config_columns(df, config_keys)
    return df


def add_config_columns(runs, keys: Sequence[str]):
    """``runs`` with one more column per dotted key read from each run's ``config.yaml``.

    A key that is already a column (an override) is kept as it is. A key that selects a
    whole config group (e.g. ``head``, when no run overrode it) is refused with the keys
    inside it, since a group's value is a mapping, not a label. A run without the key gets
    ``None``; a key that no run has is an error naming the key and the first run's config.
    """
    from omegaconf import DictConfig, ListConfig, OmegaConf

    wanted = [k for k in keys if k not in runs.columns]
    if not wanted:
        return runs
    values: dict[str, list] = {k: [] for k in wanted}
    found = dict.fromkeys(wanted, False)
    first_cfg = None
    for run_dir in runs["run_dir"]:
        path = Path(run_dir) / CONFIG_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: group keys {wanted} are read from "
                                    "each run's resolved config")
        cfg = OmegaConf.load(path)
        first_cfg = first_cfg or path
        for k in wanted:
            value = OmegaConf.select(cfg, k, default=None, throw_on_missing=False)
            if isinstance(value, DictConfig):
                raise KeyError(f"config key {k!r} is a config group in {path}, not a value: "
                               f"group by one of its keys, e.g. "
                               f"{[f'{k}.{s}' for s in list(value.keys())[:4]]}")
            if isinstance(value, ListConfig):
                value = json.dumps(OmegaConf.to_container(value))
            found[k] = found[k] or value is not None
            values[k].append(value)
    missing = [k for k, ok in found.items() if not ok]
    if missing:
        raise KeyError(f"keys {missing} are neither overrides of these runs nor keys of their "
                       f"config.yaml (e.g. {first_cfg}); overrides: "
                       f"{runs.attrs.get('override_keys', [])}")
    out = runs.assign(**values)
    out.attrs = dict(runs.attrs)
    out.attrs["config_keys"] = [*runs.attrs.get("config_keys", []), *wanted]
    return out
