"""``causalrec-compare PATH...``: compare runs from their records, as W&B would.

One row per run (its overrides and metrics); grouped by chosen keys with mean ± std over
seeds; printed as a table and written as CSV, Markdown and PNG plots (one metric per panel,
error bars). ``--wandb`` logs the same table to W&B (offline unless configured).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import atomic

DEFAULT_METRICS = ("test/ndcg@10", "test/recall@10")
_NOT_GROUP_KEYS = {"seed", "run_dir", "status", "task", "wall_time_s", "peak_memory_mb",
                   "config_hash", "error", "resume"}


def default_group_keys(runs) -> list[str]:
    """Every override column that varies across runs (seed excluded)."""
    if "override_keys" in runs.attrs:
        candidates = list(runs.attrs["override_keys"])
    else:
        candidates = [c for c in runs.columns if "/" not in c]
    keys = [c for c in candidates if c in runs.columns and c not in _NOT_GROUP_KEYS
            and not c.startswith(("hydra.", "paths.", "logger", "trainer.enable_progress"))]
    return [k for k in keys if runs[k].astype(str).nunique() > 1]


def summarize(runs, group_by: Sequence[str], metrics: Sequence[str]):
    """Mean, std and count of each metric per group (std over seeds, ddof=1)."""
    import pandas as pd

    missing = [m for m in metrics if m not in runs.columns]
    if missing:
        have = sorted(c for c in runs.columns if "/" in c)
        raise KeyError(f"metrics {missing} are in no run record; recorded metrics: {have}")
    bad = [g for g in group_by if g not in runs.columns]
    if bad:
        raise KeyError(f"group keys {bad} are not overrides of these runs; "
                       f"available: {default_group_keys(runs) or list(runs.columns)}")
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    if not group_by:
        ok = ok.assign(_all="all")
        group_by = ["_all"]
    keyed = ok.assign(**{g: ok[g].astype(str) for g in group_by})
    grouped = keyed.groupby(list(group_by), sort=True, dropna=False)
    out = grouped[list(metrics)].agg(["mean", "std", "count"])
    out.columns = [f"{m} {stat}" for m, stat in out.columns]
    table = out.reset_index()
    table.insert(len(group_by), "runs", grouped.size().to_numpy())
    return pd.DataFrame(table)


def format_table(summary, metrics: Sequence[str]) -> str:
    """Markdown table with ``mean ± std`` cells."""
    key_cols = [c for c in summary.columns if " " not in c]
    header = key_cols + list(metrics)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in summary.iterrows():
        cells = [str(row[c]) for c in key_cols]
        for m in metrics:
            mean, std = row[f"{m} mean"], row[f"{m} std"]
            cells.append(f"{mean:.4f} ± {std:.4f}" if std == std else f"{mean:.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(summary, group_by: Sequence[str], metrics: Sequence[str]):
    """One panel per metric: bars of the group means with std error bars."""
    import matplotlib.pyplot as plt

    labels = [", ".join(str(r[g]) for g in group_by) or "all" for _, r in summary.iterrows()] \
        if group_by else ["all"] * len(summary)
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(4.0, 1.2 * len(labels)) * len(metrics) / 1.5, 3.6),
                             squeeze=False)
    for ax, m in zip(axes[0], metrics):
        mean = summary[f"{m} mean"].to_numpy()
        std = summary[f"{m} std"].fillna(0).to_numpy()
        ax.bar(range(len(mean)), mean, yerr=std, capsize=4, color="tab:blue", alpha=0.8)
        ax.set_xticks(range(len(mean)), labels, rotation=30, ha="right")
        ax.set_title(m)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def compare(paths: Sequence[str], group_by: Sequence[str] | None = None,
            metrics: Sequence[str] = DEFAULT_METRICS, out_dir: str | None = None,
            progress: bool = True):
    """Load, summarise and write the comparison; returns (runs, summary, markdown)."""
    import io

    from .runs import load_runs

    runs = load_runs(paths, include_errors=True, progress=progress)
    if runs.empty:
        raise FileNotFoundError(f"no run records (metrics.json) under {list(paths)}")
    if group_by is None:
        group_by = default_group_keys(runs)
    summary = summarize(runs, group_by, metrics)
    md = format_table(summary, metrics)
    if out_dir is not None:
        out = Path(out_dir)
        atomic.write_text(out / "runs.csv", runs.to_csv(index=False))
        atomic.write_text(out / "summary.csv", summary.to_csv(index=False))
        atomic.write_text(out / "summary.md", md + "\n")
        fig = plot(summary, group_by, metrics)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120)
        atomic.write_bytes(out / "summary.png", buf.getvalue())
        import matplotlib.pyplot as plt

        plt.close(fig)
    return runs, summary, md


def log_to_wandb(summary, project: str = "causalrec") -> None:
    import os

    import wandb

    mode = os.environ.get("WANDB_MODE", "offline")
    run = wandb.init(project=project, job_type="compare", mode=mode)
    run.log({"comparison": wandb.Table(dataframe=summary)})
    run.finish()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="causalrec-compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="run or sweep directories (searched recursively)")
    parser.add_argument("--group-by", default=None,
                        help="comma-separated override keys (default: every key that varies "
                             "across runs, seed excluded)")
    parser.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                        help="comma-separated metrics (default: %(default)s)")
    parser.add_argument("--out", default=None,
                        help="where to write CSV/Markdown/PNG (default: <first path>/compare)")
    parser.add_argument("--wandb", action="store_true", help="also log the table to W&B")
    args = parser.parse_args(argv)
    group_by = None if args.group_by is None else [g for g in args.group_by.split(",") if g]
    metrics = [m for m in args.metrics.split(",") if m]
    out = args.out or str(Path(args.paths[0]) / "compare")
    try:
        runs, summary, md = compare(args.paths, group_by, metrics, out)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"causalrec-compare: error: {exc}", file=sys.stderr)
        return 2
    failed = int((runs["status"] == "failed").sum()) if "status" in runs else 0
    print(md)
    print(f"\n{len(runs)} runs ({failed} failed); written to {out}/summary.{{csv,md,png}}")
    if args.wandb:
        log_to_wandb(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
