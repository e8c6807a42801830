"""``causalrec-compare PATH...``: compare runs from their records, as W&B would, and decide.

One row per run (its overrides, chosen config keys and metrics). Methods are told apart by
``--group-by`` (overrides or any key of the runs' resolved ``config.yaml``, e.g.
``head._target_``); blocks (datasets, graphs) by ``--blocks``. The output says:

* per method and block: mean, std, standard error and t confidence interval over seeds;
* paired on seed within each block: every method minus ``--baseline``, the mean difference
  with a t (or bootstrap) interval, the paired t-test and Holm-corrected p-values, and a
  warning when fewer than 3 seeds pair up;
* with 3 or more methods: average ranks over blocks, the Friedman test and the Nemenyi
  critical difference (Demšar 2006), drawn as a critical-difference diagram.

Everything is written atomically into a new folder beside the sweep,
``<first path>/compare-<time>-<hash>/`` (an earlier comparison is never overwritten):
CSV and Markdown tables, ``report.md`` and PNG plots. ``--wandb`` logs the tables and plots
to a W&B run in the sweep's group, stored in the sweep directory (offline unless
configured).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import atomic

DEFAULT_METRICS = ("test/ndcg@10", "test/recall@10")
_NOT_GROUP_KEYS = {"seed", "run_dir", "status", "task", "wall_time_s", "peak_memory_mb",
                   "config_hash", "error", "resume", "data_fingerprint", "threads", "tags"}
_BLOCK_KEYS = ("dataset", "graph", "dataset.name", "graph.name")


def default_group_keys(runs) -> list[str]:
    """Every override column that varies across runs (seed excluded)."""
    if "override_keys" in runs.attrs:
        candidates = list(runs.attrs["override_keys"])
    else:
        candidates = [c for c in runs.columns if "/" not in c]
    keys = [c for c in candidates if c in runs.columns and c not in _NOT_GROUP_KEYS
            and not c.startswith(("hydra.", "paths.", "logger", "trainer.enable_progress"))]
    return [k for k in keys if runs[k].astype(str).nunique() > 1]


def split_keys(runs, group_by: Sequence[str] | None, blocks: Sequence[str] | None):
    """(method keys, block keys): by default the varying ``dataset``/``graph`` overrides
    are blocks and every other override that varies within a block tells methods apart
    (one that changes only with the block, e.g. a per-dataset learning rate, does not).
    Without ``blocks``, a dataset/graph key among ``group_by`` becomes the block (runs on
    different datasets never pair); pass ``blocks=[]`` to keep it a method key."""
    varying = default_group_keys(runs)
    if blocks is None and group_by is not None:  # --group-by head,dataset: dataset blocks
        blocks = [k for k in group_by if k in _BLOCK_KEYS]
        group_by = [k for k in group_by if k not in blocks]
    elif blocks is None:
        blocks = [k for k in varying if k in _BLOCK_KEYS]
    if group_by is None:  # a key that only changes with the block describes the block
        keyed = runs.assign(**{k: runs[k].astype(str) for k in [*varying, *blocks]})
        group_by = [k for k in varying if k not in blocks and (
            not blocks or (keyed.groupby(list(blocks))[k].nunique() > 1).any())]
    overlap = sorted(set(group_by) & set(blocks))
    if overlap:
        raise ValueError(f"keys {overlap} are both group and block keys; a key either tells "
                         "methods apart (--group-by) or blocks (--blocks)")
    return list(group_by), list(blocks)


def summarize(runs, group_by: Sequence[str], metrics: Sequence[str], level: float = 0.95):
    """Per group: mean, std (ddof=1), count, standard error and the half-width of the
    Student-t ``level`` interval of the mean of each metric, over seeds."""
    import pandas as pd

    from .stats import error_half_width

    missing = [m for m in metrics if m not in runs.columns]
    if missing:
        have = sorted(c for c in runs.columns if "/" in c)
        raise KeyError(f"metrics {missing} are in no run record; recorded metrics: {have}")
    bad = [g for g in group_by if g not in runs.columns]
    if bad:
        raise KeyError(f"group keys {bad} are neither overrides nor config keys of these runs; "
                       f"varying overrides: {default_group_keys(runs) or list(runs.columns)}")
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    if not group_by:
        ok = ok.assign(_all="all")
        group_by = ["_all"]
    keyed = ok.assign(**{g: ok[g].astype(str) for g in group_by})
    grouped = keyed.groupby(list(group_by), sort=True, dropna=False)
    out = grouped[list(metrics)].agg(["mean", "std", "count"])
    out.columns = [f"{m} {stat}" for m, stat in out.columns]
    for m in metrics:
        out[f"{m} se"] = grouped[m].agg(lambda v: error_half_width(v, "se")).to_numpy()
        out[f"{m} ci"] = grouped[m].agg(lambda v: error_half_width(v, "ci", level)).to_numpy()
    table = out.reset_index()
    table.insert(len(group_by), "runs", grouped.size().to_numpy())
    return pd.DataFrame(table)


def format_table(summary, metrics: Sequence[str], error: str = "ci", level: float = 0.95) -> str:
    """Markdown table with ``mean ± error`` cells and a line saying what the error is."""
    from .plots import error_label

    col = {"std": "std", "se": "se", "ci": "ci"}[error]
    key_cols = [c for c in summary.columns if " " not in c]
    header = key_cols + list(metrics)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in summary.iterrows():
        cells = [str(row[c]) for c in key_cols]
        for m in metrics:
            mean, err = row[f"{m} mean"], row[f"{m} {col}"]
            cells.append(f"{mean:.4f} ± {err:.4f}" if err == err else f"{mean:.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(f"\ncells: mean ± {error_label(error, level)}")
    return "\n".join(lines)


def format_paired(diffs, metric: str) -> str:
    """Markdown table of :func:`~causalrec.experiment.stats.paired_differences`."""
    if diffs.empty:
        return ""
    blocks = [c for c in diffs.columns if c not in _PAIRED_COLS]
    header = [*blocks, "method", "n", "mean diff", diffs.attrs.get("interval", "interval"),
              "p (paired t)", "p (Holm)", "wins", "note"]
    lines = [f"**{metric}**: method − baseline {diffs['baseline'].iloc[0]!r}, paired on seed",
             "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, r in diffs.iterrows():
        ci = f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]" if r.ci_low == r.ci_low else "—"
        lines.append("| " + " | ".join([*(str(r[b]) for b in blocks), str(r.method), str(r.n),
                                        f"{r.mean_diff:+.4f}", ci, f"{r.p:.3g}",
                                        f"{r.p_holm:.3g}", f"{r.wins}/{r.n}", r.note]) + " |")
    lines.append(f"\nmultiple comparisons: {diffs.attrs.get('correction', '')}")
    return "\n".join(lines)


_PAIRED_COLS = {"method", "baseline", "n", "mean_diff", "sd_diff", "se_diff", "ci_low",
                "ci_high", "t", "p", "p_holm", "wins", "note"}


@dataclass
class Comparison:
    """What :func:`compare` found: the runs, the summary, the paired differences (per
    metric), the ranking (None with fewer than 3 methods or 2 blocks) and where it was
    written."""

    runs: object
    summary: object
    markdown: str
    group_by: list
    blocks: list
    baseline: str | None
    paired: dict = field(default_factory=dict)
    pairs: dict = field(default_factory=dict)
    ranking: object = None
    report: str = ""
    out_dir: Path | None = None
    notes: list = field(default_factory=list)

    def __iter__(self):  # ``runs, summary, md = compare(...)`` keeps working
        return iter((self.runs, self.summary, self.markdown))


def compare(paths: Sequence[str], group_by: Sequence[str] | None = None,
            metrics: Sequence[str] = DEFAULT_METRICS, out_dir: str | None = None,
            progress: bool = True, *, blocks: Sequence[str] | None = None,
            baseline: str | None = None, error: str = "ci", level: float = 0.95,
            interval: str = "t", higher_is_better: bool = True,
            rank_metric: str | None = None, rank_over_seeds: bool = False) -> Comparison:
    """Load, summarise, pair, rank and (with ``out_dir``) write the comparison.

    Args:
        paths: run or sweep directories (searched recursively for ``metrics.json``).
        group_by: keys that tell methods apart (overrides or dotted ``config.yaml`` keys);
            default: every varying override except dataset/graph and seed.
        blocks: keys of blocks (datasets, graphs) inside which runs pair up; default: the
            varying ``dataset``/``graph`` overrides when ``group_by`` is not given.
        baseline: the method label the others are compared with (default: the first).
        error: what the error bars and ``±`` show: ``std``, ``se`` or ``ci``.
        interval: ``t`` or ``bootstrap`` interval of the paired mean difference.
        rank_metric: the metric ranked (default: the first of ``metrics``).
        rank_over_seeds: average seeds first, so each block (dataset) is one Friedman block
            as in Demšar (2006); default: each (block, seed) is a block.
        out_dir: a folder to write into (must not exist yet); ``"auto"``: a new
            ``compare-<time>-<hash>`` folder beside the first path.
    """
    from .runs import add_config_columns, load_runs
    from .stats import (
        method_labels,
        pair_differences_long,
        paired_differences,
        paired_table,
        rank_methods,
    )

    runs = load_runs(paths, include_errors=True, progress=progress)
    if runs.empty:
        raise FileNotFoundError(f"no run records (metrics.json) under {list(paths)}")
    asked = [*(group_by or []), *(blocks or [])]
    runs = add_config_columns(runs, asked)
    group_by, blocks = split_keys(runs, group_by, blocks)
    summary = summarize(runs, [*blocks, *group_by], metrics, level)
    notes: list[str] = []
    paired, pairs, ranking = {}, {}, None
    ok = runs[runs["status"] == "ok"]
    methods = sorted(set(method_labels(ok, group_by))) if group_by else []
    if len(methods) >= 2:
        if baseline is None:
            baseline = methods[0]
            notes.append(f"baseline: {baseline!r} (the first method; choose with --baseline)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for m in metrics:
                wide = paired_table(runs, group_by, m, blocks)
                paired[m] = paired_differences(wide, baseline, level=level, interval=interval)
                pairs[m] = pair_differences_long(wide, baseline)
            rank_metric = rank_metric or metrics[0]
            if len(methods) >= 3:
                wide = paired_table(runs, group_by, rank_metric, blocks)
                try:
                    ranking = rank_methods(wide, higher_is_better=higher_is_better,
                                           average_over=("seed",) if rank_over_seeds else ())
                except ValueError as exc:
                    notes.append(f"no ranking: {exc}")
        for w in caught:
            msg = str(w.message)
            if msg not in notes:
                notes.append(msg)
                warnings.warn(msg, w.category, stacklevel=2)
    md = format_table(summary, metrics, error, level)
    report = _report(md, paired, ranking, notes, group_by, blocks, rank_metric)
    result = Comparison(runs, summary, md, group_by, blocks, baseline, paired, pairs, ranking,
                        report, None, notes)
    if out_dir is not None:
        result.out_dir = write_comparison(result, metrics, out_dir, paths, error, level)
    return result


def _report(md, paired, ranking, notes, group_by, blocks, rank_metric) -> str:
    parts = [f"# Comparison\n\nmethods told apart by {group_by or '—'}; blocks: "
             f"{blocks or '—'}; pairs: same seed within a block\n", "## Summary\n", md]
    for m, diffs in paired.items():
        parts += [f"\n## Paired differences: {m}\n", format_paired(diffs, m)]
    if ranking is not None:
        parts += [f"\n## Ranking ({rank_metric})\n", ranking.summary()]
    if notes:
        parts += ["\n## Notes\n", *(f"- {n}" for n in notes)]
    return "\n".join(parts) + "\n"


def new_compare_dir(parent: str | Path, key: str) -> Path:
    """A folder name under ``parent`` that no earlier comparison used."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    digest = hashlib.sha256(f"{key}|{time.time_ns()}".encode()).hexdigest()[:6]
    out = Path(parent) / f"compare-{stamp}-{digest}"
    n = 2
    while out.exists():
        out = Path(parent) / f"compare-{stamp}-{digest}-{n}"
        n += 1
    return out


def write_comparison(result: Comparison, metrics: Sequence[str], out_dir, paths=(),
                     error: str = "ci", level: float = 0.95) -> Path:
    """Write tables, report and plots into a new folder, atomically (it appears complete
    or not at all); refuses an existing folder rather than overwrite it."""
    from .plots import figure_png, plot_cd, plot_groups, plot_paired

    if str(out_dir) == "auto":
        out_dir = new_compare_dir(Path(paths[0]), "|".join(map(str, paths)))
    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(f"{out} already exists: a comparison never overwrites another; "
                              "choose a new --out (or leave it out for a fresh folder)")
    with atomic.staging_dir(out) as tmp:
        atomic.write_text(tmp / "runs.csv", result.runs.to_csv(index=False))
        atomic.write_text(tmp / "summary.csv", result.summary.to_csv(index=False))
        atomic.write_text(tmp / "summary.md", result.markdown + "\n")
        atomic.write_text(tmp / "report.md", result.report)
        atomic.write_bytes(tmp / "summary.png", figure_png(plot_groups(
            result.runs, result.group_by, metrics, baseline=result.baseline, error=error,
            level=level, block_keys=result.blocks)))
        for i, (m, diffs) in enumerate(result.paired.items()):
            suffix = "" if i == 0 else f"_{_slug(m)}"
            atomic.write_text(tmp / f"paired{suffix}.csv", diffs.to_csv(index=False))
            atomic.write_text(tmp / f"pairs{suffix}.csv", result.pairs[m].to_csv(index=False))
            atomic.write_bytes(tmp / f"paired{suffix}.png", figure_png(plot_paired(
                diffs, result.pairs[m], m, block_keys=result.blocks)))
        if result.ranking is not None:
            r = result.ranking
            atomic.write_text(tmp / "ranking.csv", r.ranks.rename("average_rank").to_frame()
                              .assign(friedman_p=r.friedman_p, cd=r.cd).to_csv())
            atomic.write_bytes(tmp / "cd.png", figure_png(plot_cd(r)))
    return out


def _slug(metric: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in metric)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="causalrec-compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="run or sweep directories (searched recursively)")
    parser.add_argument("--group-by", default=None,
                        help="comma-separated keys that tell methods apart: overrides or "
                             "dotted keys of config.yaml, e.g. head._target_,encoder._target_ "
                             "(default: every varying override but dataset/graph and seed)")
    parser.add_argument("--blocks", default=None,
                        help="comma-separated block keys (datasets, graphs) inside which runs "
                             "pair on seed (default: varying dataset/graph overrides)")
    parser.add_argument("--baseline", default=None,
                        help="method the others are compared with, as its label (the group "
                             "values joined by ', '; default: the first)")
    parser.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                        help="comma-separated metrics (default: %(default)s)")
    parser.add_argument("--error", choices=("std", "se", "ci"), default="ci",
                        help="what ± and error bars show (default: %(default)s, 95%% t)")
    parser.add_argument("--interval", choices=("t", "bootstrap"), default="t",
                        help="interval of the paired mean difference (default: %(default)s)")
    parser.add_argument("--lower-is-better", action="store_true",
                        help="rank the metric ascending (e.g. gini, avg_popularity)")
    parser.add_argument("--rank-over-seeds", action="store_true",
                        help="average seeds first: one Friedman block per dataset (Demšar)")
    parser.add_argument("--out", default=None,
                        help="a new folder for the tables and plots (default: "
                             "<first path>/compare-<time>-<hash>)")
    parser.add_argument("--wandb", action="store_true",
                        help="also log tables and plots to W&B, in the sweep's group")
    args = parser.parse_args(argv)

    def keys(text):
        return None if text is None else [k for k in text.split(",") if k]

    metrics = [m for m in args.metrics.split(",") if m]
    try:
        result = compare(args.paths, keys(args.group_by), metrics, args.out or "auto",
                         blocks=keys(args.blocks), baseline=args.baseline, error=args.error,
                         interval=args.interval, higher_is_better=not args.lower_is_better,
                         rank_over_seeds=args.rank_over_seeds)
    except (FileNotFoundError, FileExistsError, KeyError, ValueError) as exc:
        print(f"causalrec-compare: error: {exc}", file=sys.stderr)
        return 2
    runs = result.runs
    failed = int((runs["status"] == "failed").sum()) if "status" in runs else 0
    print(result.report)
    print(f"{len(runs)} runs ({failed} failed); written to {result.out_dir}/")
    if args.wandb:
        from .loggers import log_comparison

        where = log_comparison(result, Path(args.paths[0]))
        print(f"W&B run written to {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
