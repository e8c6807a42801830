"""Preprocessing as its own step, with a report of what each rule removed.

Rules run in this order on the interactions (each one only when configured):

1. ``drop_invalid`` - rows with a missing or empty id, a missing/NaN/infinite number, a label
   or exposure outside {0, 1}, a propensity outside (0, 1], a negative position or a missing
   or unparseable timestamp (without this rule such rows are errors);
2. ``normalize_text`` - reviews: HTML entities decoded, runs of whitespace collapsed,
   blank reviews become missing (nothing is removed);
3. ``drop_exact_duplicates`` - rows identical in every column (the last is kept);
4. ``rm_dup_inter`` - RecBole's option: one row per (user, item), ``"first"`` or ``"last"``
   by time (by row order without timestamps);
5. ``val_interval`` - RecBole's option: ``{column: "[A,B);(C,D]"}`` keeps rows in the
   intervals;
6. ``threshold`` - RecBole's option: ``{column: v}`` sets ``label = column >= v`` (implicit
   feedback from ratings);
7. ``filter_inter_by_user_or_item`` - RecBole's option: rows whose user or item is not in the
   users / items table are removed (instead of being an error);
8. ``user_inter_num_interval`` / ``item_inter_num_interval`` - RecBole's k-core filter: users
   (items) whose number of interactions is outside the interval are removed, repeated until
   nothing changes (``"[5,inf)"`` is the 5-core); items or users of the tables left without
   interactions are dropped too when 0 is outside the interval;
9. ``min_user_positives`` - users with fewer positive rows (``label > 0``; every row without
   a label) are removed: they cannot be evaluated;
10. ``time_order`` - rows sorted by timestamp, stable (RecBole's ``TO`` order).

Columns in ``val_interval`` / ``threshold`` are named by role (``rating``, ``label``,
``timestamp``, ...; ``from_frame`` has renamed yours) or as a ``keep`` column.

The option names follow RecBole's data settings (Zhao et al., "RecBole", CIKM 2021), which
users of the field already know. ``Preprocess.apply`` returns the kept rows and a report
DataFrame: one row per rule with rows before/after, rows removed, users and items left.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from .frame import _timestamps, column_problems, encode_ids
from .schema import DataValidationError

_INTERVAL = re.compile(r"^\s*([\[(])\s*([^,\s]+)\s*,\s*([^,\s\])]+)\s*([\])])\s*$")


def parse_interval(spec: str, option: str) -> list[tuple[float, float, bool, bool]]:
    """``"[A,B);(C,D]"`` -> [(A, B, A closed, B closed), ...] (RecBole's interval syntax)."""
    parts = []
    for piece in str(spec).split(";"):
        m = _INTERVAL.match(piece)
        try:
            lo, hi = float(m.group(2)), float(m.group(3))
        except (AttributeError, ValueError):
            raise DataValidationError(f"{option}: {spec!r} is not an interval like '[5,inf)' or "
                                      "'[1,3);(4,5]'", column=option) from None
        if lo > hi:
            raise DataValidationError(f"{option}: {spec!r} has A > B", column=option)
        parts.append((lo, hi, m.group(1) == "[", m.group(4) == "]"))
    return parts


def in_interval(v: np.ndarray, parts) -> np.ndarray:
    """Whether each value lies in any of the parsed intervals (NaN never does)."""
    ok = np.zeros(len(v), dtype=bool)
    for lo, hi, lo_c, hi_c in parts:
        ok |= ((v >= lo) if lo_c else (v > lo)) & ((v <= hi) if hi_c else (v < hi))
    return ok


@dataclass(frozen=True)
class Preprocess:
    """The rules (see the module docstring); every rule is off unless set."""

    drop_invalid: bool = False
    normalize_text: bool = False
    drop_exact_duplicates: bool = False
    rm_dup_inter: str | None = None
    val_interval: dict | None = None
    threshold: dict | None = None
    filter_inter_by_user_or_item: bool = False
    user_inter_num_interval: str | None = None
    item_inter_num_interval: str | None = None
    min_user_positives: int = 0
    time_order: bool = False

    @classmethod
    def from_config(cls, cfg) -> Preprocess:
        """From a dict (a YAML ``preprocess:`` block), checking names and values."""
        if cfg is None:
            return cls()
        if isinstance(cfg, Preprocess):
            return cfg
        cfg = {str(k): v for k, v in dict(cfg).items()}
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(cfg) - set(known))
        if unknown:
            raise DataValidationError(f"unknown preprocess options {unknown}; known: {known}",
                                      column="preprocess")
        for key in ("val_interval", "threshold"):
            if cfg.get(key) is not None:
                cfg[key] = {str(k): v for k, v in dict(cfg[key]).items()}
        out = cls(**cfg)
        if out.rm_dup_inter not in (None, "first", "last"):
            raise DataValidationError(f"rm_dup_inter must be 'first', 'last' or null, got "
                                      f"{out.rm_dup_inter!r}", column="preprocess.rm_dup_inter")
        if out.threshold is not None and len(out.threshold) != 1:
            raise DataValidationError(f"threshold takes one {{column: value}} pair (RecBole), "
                                      f"got {out.threshold}", column="preprocess.threshold")
        for col, spec in (out.val_interval or {}).items():
            parse_interval(spec, f"preprocess.val_interval.{col}")
        for key in ("user_inter_num_interval", "item_inter_num_interval"):
            if getattr(out, key) is not None:
                parse_interval(getattr(out, key), f"preprocess.{key}")
        if int(out.min_user_positives) < 0:
            raise DataValidationError("min_user_positives must be >= 0",
                                      column="preprocess.min_user_positives")
        return out

    def keeps_unseen(self, kind: str) -> bool:
        """Whether ids without interactions stay in the id space (0 is in the k-core
        interval, or there is no k-core filter on this side; users removed for too few
        positives leave it)."""
        if kind == "user" and int(self.min_user_positives) > 0:
            return False
        spec = self.user_inter_num_interval if kind == "user" else self.item_inter_num_interval
        return spec is None or bool(in_interval(np.zeros(1), parse_interval(spec, kind))[0])

    # ------------------------------------------------------------------ the rules
    def apply(self, frame: pd.DataFrame, user_ids=None, item_ids=None, source: str = ""
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Run the rules on a canonical frame (columns named by role, as
        :func:`~causalrec.data.from_frame` names them with ``causalrec.data.frame.canonical``);
        returns ``(kept rows, report)``."""
        log: list[dict] = []

        def record(step: str, option: str, before: pd.DataFrame, after: pd.DataFrame,
                   detail: str = "") -> pd.DataFrame:
            log.append({"step": step, "option": option, "rows_before": len(before),
                        "removed": len(before) - len(after), "rows_after": len(after),
                        "users": int(after["user"].nunique()),
                        "items": int(after["item"].nunique()), "detail": detail})
            return after.reset_index(drop=True)

        df = frame.reset_index(drop=True)
        log.append({"step": "input", "option": "", "rows_before": len(df), "removed": 0,
                    "rows_after": len(df), "users": int(df["user"].nunique()),
                    "items": int(df["item"].nunique()), "detail": ""})
        if self.drop_invalid:
            bad = np.zeros(len(df), dtype=bool)
            why = []
            for role in ("user", "item"):
                miss = encode_ids(df[role])[0] < 0
                if miss.any():
                    why.append(f"{role}: {int(miss.sum())} missing or empty ids")
                bad |= miss
            for role, (_, problems) in column_problems(df).items():
                if role == "text":  # a column that is not text is an error, not a row to drop
                    continue
                for mask, problem in problems:
                    if mask.any():
                        why.append(f"{role}: {int(mask.sum())} {problem}")
                    bad |= mask
            df = record("missing or invalid values", "drop_invalid", df, df[~bad],
                        "; ".join(why))
        if self.normalize_text and "text" in df.columns:
            df, detail = _normalise_text(df)
            df = record("text normalisation", "normalize_text", df, df, detail)
        if self.drop_exact_duplicates:
            dup = df.drop(columns=["_row"]).duplicated(keep="last").to_numpy()
            df = record("exact duplicates", "drop_exact_duplicates", df, df[~dup])
        if self.rm_dup_inter is not None:
            key = _time_key(df)
            order = np.lexsort((np.arange(len(df)), key))
            dup = df.iloc[order].duplicated(["user", "item"], keep=self.rm_dup_inter)
            keep = np.sort(order[~dup.to_numpy()])
            df = record("duplicate (user, item) pairs", f"rm_dup_inter={self.rm_dup_inter}", df,
                        df.iloc[keep], f"kept the {self.rm_dup_inter} by time")
        for col, spec in (self.val_interval or {}).items():
            v = _numeric(df, col, "val_interval", source)
            ok = in_interval(v, parse_interval(spec, f"val_interval.{col}"))
            df = record("value interval", f"val_interval.{col}={spec}", df, df[ok])
        if self.threshold:
            (col, v), = self.threshold.items()
            x = _numeric(df, col, "threshold", source)
            df = df.assign(label=(x >= float(v)).astype(np.float32))
            df = record("rating threshold to implicit labels", f"threshold.{col}={v}", df, df,
                        f"label = {col} >= {v}: {int(df['label'].sum())} positives")
        if self.filter_inter_by_user_or_item:
            ok = np.ones(len(df), dtype=bool)
            for role, ids in (("user", user_ids), ("item", item_ids)):
                if ids is not None:
                    ok &= pd.Series(df[role]).astype(str).isin(set(map(str, ids))).to_numpy()
            df = record("ids missing from the tables", "filter_inter_by_user_or_item", df, df[ok])
        if self.user_inter_num_interval or self.item_inter_num_interval:
            df = _kcore(self, df, record)
        if int(self.min_user_positives) > 0:
            pos = df["label"].to_numpy() > 0 if "label" in df.columns \
                else np.ones(len(df), dtype=bool)
            n_pos = df.loc[pos, "user"].value_counts()
            good = set(n_pos[n_pos >= int(self.min_user_positives)].index)
            n_gone = int(df["user"].nunique()) - len(good)
            df = record("minimum positives per user", f"min_user_positives="
                        f"{self.min_user_positives}", df, df[df["user"].isin(good).to_numpy()],
                        f"{n_gone} users removed")
        if self.time_order:
            if "timestamp" not in df.columns:
                raise DataValidationError("time_order needs a timestamp column", source=source,
                                          column="timestamp")
            order = np.lexsort((np.arange(len(df)), _time_key(df)))
            moved = int((order != np.arange(len(df))).sum())
            df = record("time ordering", "time_order", df, df.iloc[order],
                        f"{moved} rows moved")
        return df, pd.DataFrame(log)


def _time_key(df: pd.DataFrame) -> np.ndarray:
    if "timestamp" not in df.columns:
        return np.arange(len(df), dtype=np.float64)
    return _timestamps(df["timestamp"])[0]


def _numeric(df: pd.DataFrame, col: str, option: str, source: str) -> np.ndarray:
    if col not in df.columns:
        raise DataValidationError(f"{option} names column {col!r}, which the interactions do "
                                  f"not have (columns: {[c for c in df.columns if c != '_row']})",
                                  source=source, column=col)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _normalise_text(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    s = df["text"]
    text = s[s.map(lambda v: isinstance(v, str))]
    uniq = pd.unique(text)
    clean = {u: re.sub(r"\s+", " ", html.unescape(u)).strip() for u in uniq}
    new = text.map(clean)
    changed = int((new != text).sum())
    emptied = int((new == "").sum())
    out = s.astype(object).copy()
    out[new.index] = new.where(new != "", None).to_numpy(dtype=object)
    return df.assign(text=out), f"{changed} reviews changed, {emptied} blank reviews now missing"


def _kcore(rules: Preprocess, df: pd.DataFrame, record) -> pd.DataFrame:
    """RecBole's ``_filter_by_inter_num``: drop users/items outside their intervals, until
    nothing changes."""
    spec_u, spec_i = rules.user_inter_num_interval, rules.item_inter_num_interval
    parts = {"user": parse_interval(spec_u, "user_inter_num_interval") if spec_u else None,
             "item": parse_interval(spec_i, "item_inter_num_interval") if spec_i else None}
    before, rounds, gone = df, 0, {"user": 0, "item": 0}
    while True:
        rounds += 1
        ok = np.ones(len(df), dtype=bool)
        for role, p in parts.items():
            if p is None:
                continue
            codes = encode_ids(df[role])[0]
            counts = np.bincount(codes, minlength=codes.max() + 1 if len(codes) else 0)
            bad_ids = ~in_interval(counts.astype(np.float64), p)
            gone[role] += int(bad_ids.sum())
            ok &= ~bad_ids[codes]
        if ok.all():
            break
        df = df[ok].reset_index(drop=True)
    option = "; ".join(f"{k}_inter_num_interval={v}" for k, v in (("user", spec_u),
                                                                   ("item", spec_i)) if v)
    return record("k-core filtering", option, before, df,
                  f"{rounds} rounds; {gone['user']} users and {gone['item']} items removed")


def preprocess_report(data) -> pd.DataFrame:
    """The preprocessing report of an :class:`InteractionData` (empty if none ran)."""
    return pd.DataFrame(data.meta.get("preprocess_report", []))


def preprocess_data(data, rules=None, **options):
    """Preprocess an existing :class:`InteractionData` (e.g. ``load("ml-100k")``): the same
    rules as ``from_frame(..., preprocess=...)``; id spaces, features and item text follow.
    Returns the new data; its report is ``preprocess_report(result)``."""
    from .frame import ROLES, from_frame

    rules = Preprocess.from_config({**dict(rules or {}), **options})
    df = data.interactions.copy()
    df["user"] = np.asarray(data.user_ids, dtype=object)[df["user"].to_numpy()]
    df["item"] = np.asarray(data.item_ids, dtype=object)[df["item"].to_numpy()]
    roles = {r: r for r in ROLES if r in df.columns}
    keep = [c for c in df.columns if c not in roles and c not in ("user", "item")]
    tables = {}
    for kind, ids, feats in (("user", data.user_ids, data.user_features),
                             ("item", data.item_ids, data.item_features)):
        t = pd.DataFrame(index=pd.RangeIndex(len(ids))) if feats is None \
            else feats.reset_index(drop=True).copy()
        t.insert(0, f"__{kind}_id", np.asarray(ids, dtype=object))
        tables[kind] = t
    out = from_frame(df, "user", "item", **roles, keep=keep, items=tables["item"],
                     users=tables["user"], item_key="__item_id", user_key="__user_id",
                     text_templates=data.meta.get("text_templates"), preprocess=rules,
                     name=data.name, source=data.source)
    for kind in ("user", "item"):
        feats = data.user_features if kind == "user" else data.item_features
        if feats is None:
            setattr(out, f"{kind}_features", None)
        text = getattr(data, f"{kind}_text")
        if text is not None:
            pos = pd.Index(getattr(data, f"{kind}_ids")).get_indexer(getattr(out, f"{kind}_ids"))
            setattr(out, f"{kind}_text", [text[i] for i in pos])
    out.meta = {**data.meta, **{k: v for k, v in out.meta.items() if k != "origin"}}
    if "text_templates" not in data.meta:
        out.meta.pop("text_templates", None)
    return out
