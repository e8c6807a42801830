"""Comparison plots a reader can trust: every seed is a dot, error bars say what they are,
the baseline is marked; paired differences against the baseline; the critical-difference
diagram of a Friedman / Nemenyi ranking (Demšar 2006)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .stats import error_half_width


def error_label(error: str, level: float = 0.95) -> str:
    return {"std": "± 1 std over seeds (ddof=1)", "se": "± 1 standard error over seeds",
            "ci": f"{level:.0%} t confidence interval of the mean"}[error]


def plot_groups(runs, method_keys: Sequence[str], metrics: Sequence[str], *,
                baseline: str | None = None, error: str = "ci", level: float = 0.95,
                block_keys: Sequence[str] = ()):
    """One panel per metric (a row of panels per block): a bar per method at its mean over
    seeds, each seed a dot on it, labelled error bars; the baseline's bar is hatched and its
    mean drawn as a dashed line."""
    import matplotlib.pyplot as plt

    from .stats import method_labels

    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    ok = ok.assign(_method=method_labels(ok, method_keys))
    blocks = list(ok.groupby([ok[k].astype(str) for k in block_keys], sort=True)) \
        if block_keys else [((), ok)]
    methods = sorted(ok["_method"].unique(), key=lambda m: (m != baseline, m))
    fig, axes = plt.subplots(len(blocks), len(metrics), squeeze=False,
                             figsize=(max(3.6, 0.9 * len(methods) + 1.6) * len(metrics),
                                      3.4 * len(blocks) + 0.6))
    rng = np.random.default_rng(0)
    for row, (bkey, sub) in zip(axes, blocks):
        bkey = bkey if isinstance(bkey, tuple) else (bkey,)
        for ax, metric in zip(row, metrics):
            for i, m in enumerate(methods):
                vals = sub.loc[sub["_method"] == m, metric].dropna().to_numpy(dtype=float)
                if not len(vals):
                    continue
                is_base = m == baseline
                half = error_half_width(vals, error, level)
                ax.bar(i, vals.mean(), color="lightgray" if is_base else "tab:blue",
                       alpha=0.7, hatch="//" if is_base else None, edgecolor="black",
                       label="baseline" if is_base else None)
                if half == half:
                    ax.errorbar(i, vals.mean(), yerr=half, color="black", capsize=5,
                                label=error_label(error, level) if i == 0 else None)
                ax.scatter(i + rng.uniform(-0.15, 0.15, len(vals)), vals, s=18, zorder=3,
                           color="tab:orange", edgecolor="black", linewidth=0.4,
                           label="one seed" if i == 0 else None)
                if is_base:
                    ax.axhline(vals.mean(), ls="--", color="gray", lw=1)
            ax.set_xticks(range(len(methods)), [short_label(m) for m in methods],
                          rotation=30, ha="right", fontsize=8)
            title = metric if not bkey else f"{metric} — {', '.join(map(str, bkey))}"
            ax.set_title(title, fontsize=9)
            ax.grid(axis="y", alpha=0.3)
    _legend_below(fig, axes)
    return fig


def short_label(label: str) -> str:
    """``causalrec.heads.PointwiseHead, bce`` -> ``PointwiseHead, bce`` (tick labels only)."""
    parts = []
    for part in str(label).split(", "):
        dotted = "." in part and " " not in part and not part.replace(".", "").isdigit()
        parts.append(part.rsplit(".", 1)[-1] if dotted and "/" not in part else part)
    return ", ".join(parts)


def _legend_below(fig, axes) -> None:
    seen: dict = {}
    for ax_row in axes:
        for ax in ax_row:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(lab, h)
    fig.tight_layout(rect=(0, min(0.3, 0.45 / fig.get_figheight()), 1, 1))
    fig.legend(seen.values(), seen.keys(), fontsize=7, loc="lower center", frameon=False,
               ncol=len(seen) if sum(len(k) for k in seen) < 70 else 2)


def plot_paired(diffs, pairs, metric: str, *, block_keys: Sequence[str] = ()):
    """Per method: each seed's difference from the baseline (dots), the mean difference and
    its interval (``diffs.attrs['interval']``), and zero = the baseline, drawn as a line."""
    import matplotlib.pyplot as plt

    blocks = list(diffs.groupby(list(block_keys), sort=True)) if block_keys else [((), diffs)]
    baseline = diffs["baseline"].iloc[0] if len(diffs) else "baseline"
    fig, axes = plt.subplots(1, len(blocks), squeeze=False,
                             figsize=(max(4.2, 1.1 * diffs["method"].nunique() + 2.4)
                                      * len(blocks), 3.8))
    for ax, (bkey, sub) in zip(axes[0], blocks):
        bkey = bkey if isinstance(bkey, tuple) else (bkey,)
        sel = pairs
        for k, v in zip(block_keys, bkey):
            sel = sel[sel[k].astype(str) == str(v)]
        for i, row in enumerate(sub.itertuples()):
            d = sel.loc[sel["method"] == row.method, "diff"].to_numpy(dtype=float)
            ax.scatter(np.full(len(d), i) + np.linspace(-0.12, 0.12, len(d)) if len(d) > 1
                       else [i] * len(d), d, s=18, color="tab:orange", edgecolor="black",
                       linewidth=0.4, zorder=3, label="one seed" if i == 0 else None)
            yerr = [[row.mean_diff - row.ci_low], [row.ci_high - row.mean_diff]] \
                if row.ci_low == row.ci_low else None
            ax.errorbar(i + 0.25, row.mean_diff, yerr=yerr, fmt="o", color="black", capsize=5,
                        label=f"mean, {diffs.attrs.get('interval', '')} interval"
                        if i == 0 else None)
            p = row.p_holm
            ax.annotate(f"p_Holm={p:.2g}" if p == p else "n<2", (i + 0.25, row.mean_diff),
                        textcoords="offset points", xytext=(6, 0), ha="left", va="center",
                        fontsize=7)
        ax.axhline(0, color="gray", ls="--", lw=1, label=f"baseline: {short_label(baseline)}")
        ax.set_xticks(range(len(sub)), [short_label(m) for m in sub["method"]], rotation=30,
                      ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(sub) + 0.1)
        title = f"{metric}: method − baseline"
        ax.set_title(title if not bkey else f"{title} — {', '.join(map(str, bkey))}",
                     fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    _legend_below(fig, axes)
    return fig


def plot_cd(ranking, metric: str = ""):
    """The critical-difference diagram of a :class:`~causalrec.experiment.stats.Ranking`:
    average ranks on an axis, methods joined by a bar when the Nemenyi test cannot tell
    them apart (scikit-posthocs' ``critical_difference_diagram``)."""
    import matplotlib.pyplot as plt
    import scikit_posthocs as sp

    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(ranking.ranks) + 1.6))
    sp.critical_difference_diagram(ranking.ranks, ranking.nemenyi_p, ax=ax,
                                   alpha=ranking.alpha, cd=ranking.cd)
    ax.set_title(f"{metric + ': ' if metric else ''}average rank over {ranking.n_blocks} "
                 f"blocks (1 = best); Friedman p={ranking.friedman_p:.2g}; Nemenyi "
                 f"CD={ranking.cd:.2f} (alpha={ranking.alpha})", fontsize=8, pad=22)
    fig.tight_layout()
    return fig


def figure_png(fig, dpi: int = 120) -> bytes:
    """The figure as PNG bytes (for an atomic write), and the figure closed."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
