# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Sweeps and comparisons that decide
#
# **Question.** Is a debiasing head (IPS, PDA) *better* than the naive model, or did it win on
# the seeds we happened to run? A bar chart of means cannot say: a head that "wins" by 0.003
# NDCG on one seed may lose on the next.
#
# **Method.** Run a grid of heads × seeds on two datasets — MovieLens-100K with the
# *intervened* (popularity-flattened) test, and the causal simulator with a randomized test —
# and compare the runs the way the evidence allows:
#
# * **Paired on seed.** Within a dataset, the same seed gives every head the same split and
#   the same initial draws, so the per-seed *difference* head − baseline removes the seed's
#   effect. We report the mean difference with a Student-t 95% interval and a paired t-test;
#   p-values are Holm-corrected over the heads compared with the baseline (Holm 1979).
# * **Ranked across datasets.** Over several datasets (blocks), heads are ranked within each
#   block; the Friedman test asks whether the average ranks differ and the Nemenyi critical
#   difference (CD) says which do, drawn as a critical-difference diagram (Demšar 2006,
#   "Statistical comparisons of classifiers over multiple data sets", JMLR 7).
#
# Every run writes a record (`metrics.json` + resolved `config.yaml`) into its own folder;
# `cr.experiment.sweep` runs the grid in this process with exactly the records that
# `causalrec-train -m` would write, so `causalrec-compare` gives the same tables for both.

# %% tags=["parameters"]
QUICK = False  # True in CI: 1 epoch, small simulator, 3 seeds

# %%
import logging
import os
import tempfile
import warnings
from pathlib import Path

import lightning.pytorch  # noqa: F401 - imported here so that its log level can be set
import pandas as pd
from IPython.display import Markdown, display

import causalrec as cr
from causalrec.experiment.compare import compare
from causalrec.experiment.plots import plot_cd, plot_groups, plot_paired

pd.set_option("display.precision", 4)
logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no banner for each run
warnings.filterwarnings("ignore", message=".*LeafSpec.*")
OUT = Path(os.environ.get("CAUSALREC_OUTPUT") or tempfile.mkdtemp(prefix="causalrec-06-"))
SEEDS = [0, 1, 2] if QUICK else [0, 1, 2, 3, 4]
HEADS = ["naive", "ips", "pda"]
QUIET = ["logger=none", "trainer.enable_progress_bar=false", "threads=1"]
DATASETS = {
    # settings of the heads benchmark (scripts/bench/train_ml100k.py); QUICK: one epoch
    "ml100k_intervened": ["encoder.dim=64", "model.optimizer.lr=0.002",
                          "dataset.batch_size=2048",
                          f"trainer.max_epochs={1 if QUICK else 40}"],
    # the simulator (popularity_bias graph) with a randomized-exposure validation/test set
    "synthetic": ["encoder.dim=16", "model.optimizer.lr=0.01", "dataset.batch_size=256",
                  f"trainer.max_epochs={2 if QUICK else 30}",
                  *(["dataset.source.n_users=300", "dataset.source.n_items=80"] if QUICK
                    else [])],
}

# %% [markdown]
# ## The sweep
# One sweep per dataset: every head × every seed. On the command line the first would be
# the line printed below; here `cr.experiment.sweep` runs the same jobs in this process.

# %%
sweeps = {}
for dataset, options in DATASETS.items():
    fixed = [f"dataset={dataset}", *options, *QUIET]
    print("causalrec-train -m", *fixed, f"head={','.join(HEADS)}",
          f"seed={','.join(map(str, SEEDS))}")
    sweeps[dataset] = cr.experiment.sweep({"head": HEADS, "seed": SEEDS}, fixed,
                                          output_dir=OUT / "sweeps" / dataset)

# %% [markdown]
# ## The run records
# One row per job: the overrides that define it (recorded for notebook runs exactly as for
# command-line runs), its seed, the fingerprint of its data, and its metrics.

# %%
runs = cr.experiment.load_runs(OUT / "sweeps")
runs[["dataset", "head", "seed", "test/ndcg@10", "test/recall@10", "data_fingerprint",
      "wall_time_s"]].head(8)

# %% [markdown]
# ## Compare
# `compare` (the function behind `causalrec-compare`) tells methods apart by `head` and
# treats the datasets as blocks (the varying `dataset` override); `naive` is the baseline.
# It writes every table and plot into a new `compare-<time>-<hash>/` folder beside the sweep,
# atomically, and never overwrites an earlier comparison.

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # shown below as notes
    result = compare([OUT / "sweeps"], metrics=["test/ndcg@10", "test/recall@10"],
                     baseline="naive", out_dir="auto", progress=False)
print("methods:", result.group_by, "| blocks:", result.blocks, "| written to",
      result.out_dir.name)
display(Markdown(result.markdown))

# %% [markdown]
# Every seed is a dot; the bar is the mean and the error bar the 95% t interval of the mean
# (say `error="std"` or `"se"` for the others — the legend always says which). The baseline's
# bar is hatched and its mean drawn across the panel.

# %%
fig = plot_groups(result.runs, result.group_by, ["test/ndcg@10", "test/recall@10"],
                  baseline="naive", block_keys=result.blocks)

# %% [markdown]
# ## Paired differences against the baseline
# For each dataset and head: the mean over seeds of (head − naive), its 95% t interval, the
# paired t-test, and the Holm-adjusted p-value over the two heads compared. `wins` counts
# the seeds on which the head beat the baseline. An interval that excludes 0 and a small
# Holm p-value are the evidence a bar chart cannot give.

# %%
paired = result.paired["test/ndcg@10"]
print(paired.attrs["correction"])
paired[["dataset", "method", "n", "mean_diff", "ci_low", "ci_high", "p", "p_holm", "wins",
        "note"]]

# %%
fig = plot_paired(paired, result.pairs["test/ndcg@10"], "test/ndcg@10",
                  block_keys=result.blocks)

# %% [markdown]
# ## Ranking across datasets: the critical-difference diagram
# Heads are ranked within each block — here each (dataset, seed), pass
# `rank_over_seeds=True` for one block per dataset as in Demšar (2006), which needs more
# datasets than two. Heads whose average ranks differ by less than the critical difference
# are joined by a bar: the Nemenyi test cannot tell them apart.

# %%
ranking = result.ranking
print(ranking.summary())
fig = plot_cd(ranking, "test/ndcg@10")

# %% [markdown]
# Any key of the runs' resolved `config.yaml` can tell methods apart, not only the overrides
# — e.g. the head's class, the same grouping as
# `causalrec-compare outputs/... --group-by head._target_ --blocks dataset.name`:

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    by_class = compare([OUT / "sweeps"], group_by=["head._target_"], blocks=["dataset.name"],
                       metrics=["test/ndcg@10"], baseline="causalrec.heads.PointwiseHead",
                       progress=False)
by_class.paired["test/ndcg@10"][["dataset.name", "method", "mean_diff", "p_holm"]]

# %% [markdown]
# ## Reading the result
# The paired interval is much narrower than either head's own spread over seeds: the seed
# moves every head the same way (the split, the initial draws), and the difference cancels
# it. A head is better than the baseline on a dataset when its interval excludes zero and
# its Holm p-value is small; across datasets, when the CD diagram does not join it to the
# baseline. With fewer than 3 seeds per pair the comparison warns, and the notes say so —
# with 2 seeds a t interval has one degree of freedom and is almost uninformative.
#
# In QUICK mode (1–2 epochs, a small simulator) the heads are far from converged and the
# differences only show that the pipeline runs; in the full setting (5 seeds, 30–40
# epochs) the same cells decide the question.

# %%
if result.notes:
    print("\n".join(result.notes))

# %% [markdown]
# ## The same comparison in W&B
# With `logger=many` (the default) every job also logs to W&B, offline unless
# `WANDB_MODE=online`: runs of a sweep share the W&B **group** (the sweep folder's name),
# carry the same config as their `config.yaml` (group and name included), and their files
# live in `<run dir>/wandb/offline-run-*` — upload them later with `wandb sync`.
# `causalrec-compare <sweep> --baseline naive --wandb` logs the summary, paired and ranking
# tables as `wandb.Table`s and these plots as images to a run in the same group, stored
# beside the sweep in `<sweep>/wandb/`.
#
# Interrupted sweeps continue with `resume=true`: a job whose config hash already has a
# complete record is skipped.

# %%
sorted(p.name for p in result.out_dir.iterdir())
