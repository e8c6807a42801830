"""Statistics that decide a comparison: paired differences across seeds, Holm's correction,
and the Friedman / Nemenyi ranking behind a critical-difference diagram.

Runs of two methods that share a seed (and, within a block such as a dataset, the same data
split) are *paired*: the seed moves both in the same direction, so the per-seed difference
has a much smaller spread than either method alone. :func:`paired_differences` reports, for
each method against a chosen baseline, the mean difference with a t or bootstrap interval
and a paired t-test, with p-values Holm-corrected over the methods compared (Holm 1979).
:func:`rank_methods` ranks methods over blocks (datasets, or dataset × seed) with the
Friedman test and the Nemenyi critical difference (Demšar 2006, "Statistical comparisons of
classifiers over multiple data sets", JMLR 7).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: below this many pairs an interval or a p-value says little; a warning says so
MIN_PAIRS = 3


def method_labels(runs, method_keys: Sequence[str]):
    """One label per run: the values of ``method_keys`` joined with ``", "``."""
    if not method_keys:
        return runs.index.map(lambda _: "all").astype(str)
    return runs[list(method_keys)].astype(str).agg(", ".join, axis=1)


def paired_table(runs, method_keys: Sequence[str], metric: str,
                 block_keys: Sequence[str] = (), pair_on: Sequence[str] = ("seed",)):
    """Wide table: one row per (block..., seed), one column per method, cells = ``metric``.

    Raises ``ValueError`` naming the runs when two runs claim the same cell. The runs'
    ``data_fingerprint`` per cell is kept in ``wide.attrs["fingerprints"]`` (keyed by
    ``(row, method)``), so pairs trained on different data can be flagged.
    """
    if metric not in runs.columns:
        raise KeyError(f"metric {metric!r} is in no run record; recorded metrics: "
                       f"{sorted(c for c in runs.columns if '/' in c)}")
    missing = [k for k in [*method_keys, *block_keys, *pair_on] if k not in runs.columns]
    if missing:
        raise KeyError(f"keys {missing} are not columns of the runs table "
                       f"(columns: {sorted(runs.columns)})")
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    index = [*block_keys, *pair_on]
    frame = ok.assign(method=method_labels(ok, method_keys),
                      **{k: ok[k].astype(str) for k in block_keys})
    dup = frame[frame.duplicated([*index, "method"], keep=False)]
    if not dup.empty:
        first = dup.sort_values([*index, "method"]).head(4)
        raise ValueError(f"runs are not unique per ({', '.join([*index, 'method'])}): e.g. "
                         f"{first['run_dir'].tolist() if 'run_dir' in first else first.index}; "
                         "add the key that tells them apart to the group or block keys")
    wide = frame.pivot(index=index, columns="method", values=metric)
    fingerprints = {}
    if "data_fingerprint" in frame:
        for row in frame[[*index, "method", "data_fingerprint"]].itertuples(index=False):
            fingerprints[(tuple(row[:-2]), row[-2])] = row[-1]
    wide.attrs["fingerprints"] = fingerprints
    return wide


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979, "A simple sequentially rejective
    multiple test procedure"); NaNs stay NaN and do not count as tests."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = len(idx)
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


#: what an error bar can show: standard deviation, standard error, confidence interval
ERROR_BARS = ("std", "se", "ci")


def error_half_width(values, error: str = "ci", level: float = 0.95) -> float:
    """Half-width of the error bar of ``values``: ``std`` (ddof=1), ``se`` = std/sqrt(n), or
    ``ci`` = the Student-t ``level`` interval of the mean; NaN for fewer than 2 values."""
    from scipy import stats

    if error not in ERROR_BARS:
        raise ValueError(f"error must be one of {ERROR_BARS}, not {error!r}")
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n < 2:
        return float("nan")
    sd = v.std(ddof=1)
    if error == "std":
        return float(sd)
    se = sd / np.sqrt(n)
    return float(se if error == "se" else stats.t.ppf((1 + level) / 2, n - 1) * se)


def _interval(d: np.ndarray, level: float, interval: str, n_boot: int,
              random_state: int) -> tuple[float, float]:
    if len(d) < 2:
        return float("nan"), float("nan")
    if interval == "t":
        half = error_half_width(d, "ci", level)
        return float(d.mean() - half), float(d.mean() + half)
    from ..ope.bootstrap import bootstrap_means, percentile_interval  # the one bootstrap

    return percentile_interval(bootstrap_means(d, n_boot, seed=random_state), 1 - level)


def paired_differences(wide, baseline: str, *, level: float = 0.95, interval: str = "t",
                       n_boot: int = 10_000, random_state: int = 0):
    """Each method minus ``baseline`` on the rows (seeds) where both ran, per block.

    Args:
        wide: the output of :func:`paired_table`.
        baseline: a column (method label) of ``wide``.
        level: confidence level of the interval.
        interval: ``"t"`` (Student t on the paired differences) or ``"bootstrap"``
            (percentile bootstrap of their mean, ``n_boot`` seeded resamples, with
            :mod:`causalrec.ope.bootstrap`).

    Returns a DataFrame with, per block and method: ``n`` pairs, ``mean_diff``, ``sd_diff``
    (ddof=1), ``se_diff``, ``ci_low``/``ci_high``, ``t`` and ``p`` of the paired t-test
    (two-sided), ``p_holm`` (Holm over the methods of the block), ``wins`` (pairs where the
    method beat the baseline) and ``note`` (``n<3``, different data). Warns when n < 3.
    """
    import pandas as pd
    from scipy import stats

    if interval not in ("t", "bootstrap"):
        raise ValueError(f"interval must be 't' or 'bootstrap', not {interval!r}")
    if baseline not in wide.columns:
        raise KeyError(f"baseline {baseline!r} is not one of the methods {list(wide.columns)}")
    block_names = list(wide.index.names[:-1]) if wide.index.nlevels > 1 else []
    pair_name = wide.index.names[-1]
    fingerprints = wide.attrs.get("fingerprints", {})
    blocks = wide.groupby(level=block_names, sort=True) if block_names else [((), wide)]
    rows = []
    for key, sub in blocks:
        key = key if isinstance(key, tuple) else (key,)
        block_rows = []
        for method in sub.columns:
            if method == baseline:
                continue
            both = sub[[method, baseline]].dropna()
            d = (both[method] - both[baseline]).to_numpy(dtype=float)
            n = len(d)
            notes = []
            if n < MIN_PAIRS:
                notes.append(f"n={n}<{MIN_PAIRS}")
                warnings.warn(f"{method} vs {baseline}{' in ' + str(key) if key else ''}: only "
                              f"{n} paired {pair_name}s; below {MIN_PAIRS} the interval and the "
                              "p-value are unreliable (run more seeds)", UserWarning, stacklevel=2)
            bad = [i for i in both.index if _differ(fingerprints, i, method, baseline)]
            if bad:
                notes.append(f"different data in {len(bad)} pairs")
            sd = float(d.std(ddof=1)) if n > 1 else float("nan")
            if n > 1 and sd > 0:
                test = stats.ttest_rel(both[method], both[baseline])
                t_stat, p = float(test.statistic), float(test.pvalue)
            else:
                t_stat, p = float("nan"), float("nan")
            lo, hi = _interval(d, level, interval, n_boot, random_state)
            block_rows.append({**dict(zip(block_names, key)), "method": method,
                               "baseline": baseline, "n": n,
                               "mean_diff": float(d.mean()) if n else float("nan"),
                               "sd_diff": sd, "se_diff": sd / np.sqrt(n) if n > 1 else np.nan,
                               "ci_low": lo, "ci_high": hi, "t": t_stat, "p": p,
                               "wins": int((d > 0).sum()), "note": "; ".join(notes)})
        adjusted = holm([r["p"] for r in block_rows])
        for r, pa in zip(block_rows, adjusted):
            r["p_holm"] = float(pa)
        rows.extend(block_rows)
    out = pd.DataFrame(rows)
    out.attrs["interval"] = f"{interval} {level:.0%}"
    out.attrs["correction"] = (f"Holm over the {len(wide.columns) - 1} methods compared with "
                               f"{baseline!r}" + (" in each block" if block_names else ""))
    return out


def _differ(fingerprints: dict, row, method: str, baseline: str) -> bool:
    row = row if isinstance(row, tuple) else (row,)
    a, b = fingerprints.get((row, method)), fingerprints.get((row, baseline))
    return a is not None and b is not None and a == a and b == b and a != b


def pair_differences_long(wide, baseline: str):
    """Long table of every pair: block..., seed, method, baseline value, value, diff."""
    rows = wide.stack(future_stack=True).rename("value").reset_index()
    base = wide[baseline].rename("baseline_value").reset_index()
    rows = rows[rows["method"] != baseline].merge(base, on=list(wide.index.names))
    rows = rows.dropna(subset=["value", "baseline_value"])
    return rows.assign(diff=rows["value"] - rows["baseline_value"])


@dataclass
class Ranking:
    """Average ranks over blocks (1 = best), the Friedman test and the Nemenyi CD."""

    ranks: object  # pandas Series: method -> average rank, best first
    n_blocks: int
    friedman_stat: float
    friedman_p: float
    cd: float
    alpha: float
    nemenyi_p: object  # pandas DataFrame: pairwise Nemenyi p-values
    blocks: object  # the wide table ranked (rows = blocks, columns = methods)

    def summary(self) -> str:
        order = ", ".join(f"{m} ({r:.2f})" for m, r in self.ranks.items())
        return (f"average ranks over {self.n_blocks} blocks (1 = best): {order}; Friedman "
                f"chi2={self.friedman_stat:.3f}, p={self.friedman_p:.3g}; Nemenyi critical "
                f"difference CD={self.cd:.3f} at alpha={self.alpha} (methods whose ranks differ "
                "by less than CD are not significantly different; Demšar 2006)")


def critical_difference(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks: q_alpha * sqrt(k(k+1) / (6N)), with
    q_alpha the studentized range quantile over sqrt(2) (Demšar 2006, eq. 5)."""
    from scipy import stats

    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n_blocks)))


def rank_methods(wide, *, higher_is_better: bool = True, alpha: float = 0.05,
                 average_over: Sequence[str] = ()) -> Ranking:
    """Rank the methods (columns of ``wide``) within each block (row) and test them.

    ``average_over`` names index levels to average away first, e.g. ``("seed",)`` makes
    each dataset one block, as in Demšar (2006); by default each (block, seed) row is one
    block. Rows with a missing method are dropped (the Friedman test needs complete blocks).
    """
    import pandas as pd
    import scikit_posthocs as sp
    from scipy import stats

    table = wide
    if average_over:
        keep = [n for n in wide.index.names if n not in average_over]
        if not keep:
            table = wide.mean().to_frame().T
        else:
            table = wide.groupby(level=keep).mean()
    complete = table.dropna()
    k, n = complete.shape[1], complete.shape[0]
    if k < 3:
        raise ValueError(f"a Friedman ranking needs at least 3 methods, got {k}: "
                         f"{list(complete.columns)}; use the paired differences for two")
    if n < 2:
        raise ValueError(f"a Friedman ranking needs at least 2 complete blocks, got {n}")
    if n < 5:
        warnings.warn(f"only {n} blocks for the Friedman test: its chi-square approximation "
                      "and the Nemenyi CD are rough below about 5 (Demšar 2006)", UserWarning,
                      stacklevel=2)
    signed = -complete.to_numpy(dtype=float) if higher_is_better else complete.to_numpy(float)
    ranks = np.apply_along_axis(stats.rankdata, 1, signed)
    avg = pd.Series(ranks.mean(0), index=complete.columns).sort_values(kind="stable")
    stat, p = stats.friedmanchisquare(*complete.to_numpy(dtype=float).T)
    nemenyi = sp.posthoc_nemenyi_friedman(complete.reset_index(drop=True))
    return Ranking(ranks=avg, n_blocks=n, friedman_stat=float(stat), friedman_p=float(p),
                   cd=critical_difference(k, n, alpha), alpha=alpha, nemenyi_p=nemenyi,
                   blocks=complete)
