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
# # 06 · Sweeps and comparison
#
# **Question.** A single run tells you little: a debiasing head that "wins" by 0.003 NDCG on
# one seed may lose on the next. How do we run a grid of configurations over several seeds,
# and compare them with their spread?
#
# **Method.** causalrec's entry point `causalrec-train` is a Hydra app, so `-m` (multirun)
# sweeps any config key: `causalrec-train -m head=naive,ips seed=0,1,2`. Every job writes a
# *run record* (`metrics.json` + resolved `config.yaml`) into its own directory, atomically.
# `causalrec.experiment.load_runs` reads them back as a DataFrame and
# `causalrec-compare` groups them by the keys that vary, with mean ± std over seeds — the
# same view W&B gives when runs are grouped by sweep (see the last cell).
#
# This notebook runs a small sweep in a subprocess (exactly what you would type in a
# terminal), then loads and plots the records.

# %% tags=["parameters"]
QUICK = False  # True in CI: tiny data, 2 epochs

# %%
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import causalrec as cr
from causalrec.experiment.compare import compare

out = Path(tempfile.mkdtemp(prefix="causalrec-sweep-"))
epochs = 2 if QUICK else 15
size = (["dataset.source.n_users=80", "dataset.source.n_items=100", "dataset.source.per_user=10"]
        if QUICK else [])
seeds = "0,1" if QUICK else "0,1,2"
cmd = [str(Path(sys.executable).with_name("causalrec-train")), "-m",
       "head.loss_type=bce,mse", f"seed={seeds}", "logger=csv", f"trainer.max_epochs={epochs}",
       "trainer.enable_progress_bar=false", "model.optimizer.lr=0.01", *size]
print(" ".join(cmd[1:]))
res = subprocess.run(cmd, env={**os.environ, "CAUSALREC_OUTPUT": str(out)},
                     capture_output=True, text=True)
assert res.returncode == 0, res.stderr[-2000:]
sweep_dir = next((out / "multirun").iterdir())
sweep_dir

# %% [markdown]
# ## The run records
# One row per job: the overrides that define it, its seed and its metrics.

# %%
runs = cr.experiment.load_runs(sweep_dir)
runs[["head.loss_type", "seed", "test/ndcg@10", "test/recall@10", "wall_time_s"]]

# %% [markdown]
# ## Grouped over seeds
# `causalrec-compare` (here called as a function) groups by every override that varies
# (seed excluded) and reports mean ± std; it also writes CSV, Markdown and a PNG.

# %%
runs, summary, md = compare([sweep_dir], metrics=["test/ndcg@10", "test/recall@10"],
                            out_dir=sweep_dir / "compare", progress=False)
print(md)

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for ax, metric in zip(axes, ["test/ndcg@10", "test/recall@10"]):
    for i, (_loss, grp) in enumerate(runs.groupby("head.loss_type")):
        ax.scatter([i] * len(grp), grp[metric], alpha=0.6, label="seeds" if i == 0 else None)
        ax.errorbar(i + 0.15, grp[metric].mean(), yerr=grp[metric].std(ddof=1), fmt="o",
                    color="black", capsize=5, label="mean ± std" if i == 0 else None)
    ax.set_xticks(range(runs["head.loss_type"].nunique()),
                  sorted(runs["head.loss_type"].unique()))
    ax.set_title(metric)
    ax.set_xlabel("head.loss_type")
axes[0].legend()
fig.tight_layout()

# %% [markdown]
# ## Reading the result
# Each dot is one seed; the black bar is the mean ± one standard deviation. A difference
# between two configurations is only worth reporting when it is large against that spread —
# with three seeds, a gap smaller than about one standard deviation is noise.
#
# ## The same runs in W&B
# With the default `logger=many` each job also logs to W&B through Lightning's
# `WandbLogger`: offline by default (the run lives in `<run dir>/wandb/offline-run-*` and can be
# uploaded later with `wandb sync`), online when you set `WANDB_MODE=online` and are logged in.
# Runs of one sweep share the W&B **group** (the sweep directory's name) and carry the
# resolved config, so in the W&B UI you group by `head.loss_type`, and the table there
# matches the one above. `causalrec-compare --wandb` logs this exact summary table too.
#
# Interrupted sweeps continue with `resume=true`: a job whose config hash already has a
# complete record is skipped.
