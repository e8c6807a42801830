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
# # 10 · Intent that earns its place
# **Question.** Does a language model's reading of user and item text make causal
# recommendation *better*, not only possible for cold items? Two places where it can:
# * **as a confounder proxy.** The deconfounded recommender (Wang, Liang, Charlin and Blei 2020,
#   "Causal Inference for Recommender Systems") fits an exposure model and conditions the
#   outcome model on its substitute confounder. Here the substitute confounder is the users'
#   LM intent (`head=deconfounded`: k-means intents of frozen MiniLM user-text vectors, an
#   intent-aware exposure model `IntentPropensity`, and an outcome model with intent × item
#   and `gamma_u * logit(a_hat_ui)` terms). On the simulator we know the truth: the click
#   probability under exposure, `true_mu1`, of every randomized test row.
# * **as a representation.** Text users and items (`encoder=minilm`, `hybrid`), users from
#   their own interaction texts with recency weights (`encoder.users=reviews`), and a
#   UniSRec-style sequential text encoder (`encoder=unisrec`: frozen item text → whitening
#   mixture-of-experts adaptor → causal transformer), against the best ID-only debiasing head
#   on MovieLens-100K's intervened test, same splits and seeds, paired on seed.

# %% tags=["parameters"]
QUICK = False  # True in CI: a tiny simulator, two seeds, three heads; no ml-100k sweep

# %%
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path

import lightning.pytorch  # noqa: F401 - imported here so that its log level can be set
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import causalrec as cr
from causalrec.experiment.stats import paired_differences, paired_table

pd.set_option("display.precision", 4)
logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*LeafSpec.*")
torch.set_num_threads(1)
OUT = Path(os.environ.get("CAUSALREC_OUTPUT") or tempfile.mkdtemp(prefix="causalrec-10-"))
QUIET = ["logger=none", "trainer.enable_progress_bar=false", "threads=1"]
SEEDS = [0, 1] if QUICK else [0, 1, 2, 3, 4]


def slug(name: str) -> str:
    """A folder name for a method label (Hydra overrides take no brackets or spaces)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")

# %% [markdown]
# ## (a) The simulator: is the deconfounded intent head less biased?
# The `popularity_bias` world: users' latent intent and items' popularity drive both the
# logging policy's exposure and the click; users write review-like text whose topics follow
# their intent, 20% of sentences off-topic (`text_noise=0.2`). Heads train on the exposed
# logged rows; validation and test are randomized-exposure rows of held-out users. For each
# test row we compare the predicted click probability under exposure with the truth
# `true_mu1`: the **bias** (mean of predicted − true), the RMSE, and the per-user Spearman
# correlation between predicted and true (does the ranking follow the truth?).
#
# Heads: naive MF; IPS with the simulator's *true* logged propensities; IPS with the
# intent-aware exposure model (`IntentPropensity`); the deconfounded head; and two ablations of
# it: **one cluster** (the intent removed, every other term kept) and **no exposure term**.

# %%
SIM = ["dataset=synthetic", "dataset.source.text_noise=0.2", "encoder.dim=16",
       "model.optimizer.lr=0.01", "dataset.batch_size=256",
       "model.early_stopping_patience=100", *QUIET,
       *(["dataset.source.n_users=300", "dataset.source.n_items=60", "trainer.max_epochs=3",
          "dataset.source.randomized_users=0.3"] if QUICK else
         ["dataset.source.n_users=800", "dataset.source.n_items=150", "trainer.max_epochs=40",
          "dataset.source.randomized_users=0.3"])]
HEADS = {
    "naive": ["head=naive", "head.weight_decay=0.1"],
    "IPS (true p)": ["head=ips", "head.propensity=null", "head.clip=0.05",
                     "head.weight_decay=0.1"],
    "IPS (intent p)": ["head=ips", "head.clip=0.05", "head.weight_decay=0.1",
                       "propensity@head.propensity=intent", "head.propensity.clusters=auto"],
    "deconfounded": ["head=deconfounded"],
    "deconf., one cluster": ["head=deconfounded", "head.clusters=1"],
    "deconf., no exposure term": ["head=deconfounded", "head.exposure_term=false"],
}
if QUICK:
    HEADS = {k: HEADS[k] for k in ("naive", "IPS (true p)", "deconfounded")}


def truth_errors(run_dir: Path) -> dict:
    """Predicted P(click | do(exposure=1)) against the simulator's true_mu1 on the test rows."""
    _, dm, module = cr.experiment.load_model(run_dir)
    test = dm.split.test.interactions
    with torch.no_grad():
        p = torch.sigmoid(module.head.score(torch.as_tensor(test["user"].to_numpy()),
                                            torch.as_tensor(test["item"].to_numpy()))).numpy()
    mu1 = test["true_mu1"].to_numpy()
    rho = (test.assign(p=p).groupby("user")[["p", "true_mu1"]]
           .corr("spearman").xs("p", level=1)["true_mu1"])
    return {"bias": float(np.mean(p - mu1)), "|bias|": float(abs(np.mean(p - mu1))),
            "rmse": float(np.sqrt(np.mean((p - mu1) ** 2))), "spearman": float(rho.mean())}


rows = []
for name, overrides in HEADS.items():
    for seed in SEEDS:
        run_dir = OUT / "simulator" / f"{slug(name)}-{seed}"
        m = cr.experiment.run(SIM + overrides + [f"seed={seed}"], output_dir=run_dir)
        rows.append({"method": name, "seed": seed, "test/ndcg@10": m["test/ndcg@10"],
                     **truth_errors(run_dir)})
sim = pd.DataFrame(rows)
sim.groupby("method", sort=False)[["bias", "rmse", "spearman", "test/ndcg@10"]].agg(
    ["mean", "sem"])

# %% [markdown]
# **Paired on seed.** The same seed gives every head the same world and split; the
# difference in |bias| between a head and the deconfounded head, its standard error over
# seeds, and how many SEs it is (`causalrec.experiment.stats.paired_differences`). The issue's
# target is a difference above 3 SE against both naive and IPS.

# %%
diffs = []
for metric in ("|bias|", "rmse"):
    wide = paired_table(sim, ["method"], metric)
    d = paired_differences(wide, baseline="deconfounded")
    d.insert(0, "metric", metric)
    diffs.append(d)
diffs = pd.concat(diffs, ignore_index=True)
diffs["diff / se"] = diffs["mean_diff"] / diffs["se_diff"]
diffs[["metric", "method", "n", "mean_diff", "se_diff", "diff / se", "ci_low", "ci_high",
       "wins"]]

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
order = list(HEADS)
for ax, metric in zip(axes, ["bias", "rmse", "spearman"], strict=True):
    for x, name in enumerate(order):
        vals = sim.loc[sim["method"] == name, metric]
        ax.scatter(np.full(len(vals), x), vals, s=14, color="tab:grey", zorder=3)
        ax.errorbar(x, vals.mean(), yerr=vals.sem() if len(vals) > 1 else None, fmt="o",
                    color="tab:green" if name == "deconfounded" else "tab:blue", capsize=4)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(range(len(order)), order, rotation=35, ha="right", fontsize=8)
    ax.set_title(f"{metric} vs true_mu1 (mean ± SE, dots = seeds)", fontsize=9)
fig.tight_layout()

# %% [markdown]
# **Reading** (full mode, 5 seeds, measured 2026-11-27 on a loaded 2-core machine; QUICK
# mode's two tiny runs say nothing). Heads trained on the exposed logs see mostly
# intent-matched, popular pairs; on uniformly drawn test items naive MF and IPS over-predict
# the click by about 0.30 (IPS re-weights the *exposure* decision, but cannot undo the
# intent-driven *candidate* selection; the intent-aware propensity barely helps, 0.27). The
# deconfounded head's bias is 0.12 ± 0.04: lower than naive's by 0.18 (paired SE 0.04, 4.4 SE,
# 5/5 seeds) and than IPS's by 0.17 (4.2 SE, 5/5); RMSE lower by 4.2 SE and 6.9 SE; the
# per-user Spearman with the truth is 0.10 ± 0.04 against -0.03 for both. The ablations are
# the honest caveat: without the intent (one cluster) or without the exposure term the bias
# is 0.15-0.17, within about one SE of the full head (the full head wins 4/5 seeds) — much of the gain comes
# from the outcome model's intercept, item effects and reconstructed-exposure covariate, which
# the MF heads lack, and the intent's own share is not separable at 5 seeds.

# %% [markdown]
# ## (b) MovieLens-100K, intervened test: text vs ID, same split and seeds
# Settings of the heads benchmark (`scripts/bench/train_ml100k.py`); the ID-only baseline is
# our best ID debiasing head there (PDA). Each method is one sweep over the seeds
# (`cr.experiment.sweep`), paired on seed against ID + PDA.

# %%
ML = ["dataset=ml100k_intervened", "encoder.dim=64", "model.optimizer.lr=0.002",
      "dataset.batch_size=2048", "trainer.max_epochs=60", "model.early_stopping_patience=5",
      *QUIET]
METHODS = {
    "ID + PDA": ["encoder=id", "head=pda"],
    "text (MiniLM, ID users) + PDA": ["encoder=minilm", "encoder.users=id", "head=pda"],
    "text (reviews/titles users) + PDA": ["encoder=minilm", "encoder.users=reviews",
                                          "head=pda"],
    "hybrid + PDA": ["encoder=hybrid", "encoder.gate_bias=-2.0", "encoder.text.users=id",
                     "head=pda"],
    "UniSRec-style + BPR": ["encoder=unisrec", "head=bpr"],
    "ID + deconfounded (title intents)": ["encoder=id", "head=deconfounded",
                                          "+head.text.users=reviews"],
}
ML_SEEDS = [0, 1, 2]
if QUICK:
    print("QUICK: the ml-100k sweep is skipped (it trains 18 models); run with QUICK = False")
    ml = pd.DataFrame()
else:
    rows = []
    for name, overrides in METHODS.items():
        sweep_dir = cr.experiment.sweep({"seed": ML_SEEDS}, ML + overrides,
                                        output_dir=OUT / "ml100k" / slug(name))
        runs = cr.experiment.load_runs(sweep_dir)
        rows += [{"method": name, "seed": int(r["seed"]), "test/ndcg@10": r["test/ndcg@10"],
                  "test/recall@10": r["test/recall@10"]} for _, r in runs.iterrows()]
    ml = pd.DataFrame(rows)

# %%
if len(ml):
    wide = paired_table(ml, ["method"], "test/ndcg@10")
    d = paired_differences(wide, baseline="ID + PDA")
    base = ml.loc[ml["method"] == "ID + PDA", "test/ndcg@10"].mean()
    d["relative"] = d["mean_diff"] / base
    table = (ml.groupby("method", sort=False)["test/ndcg@10"].agg(["mean", "sem"])
             .join(d.set_index("method")[["mean_diff", "ci_low", "ci_high", "relative"]]))
    display_table = table
else:
    display_table = "QUICK mode: no ml-100k runs"
display_table

# %% [markdown]
# **What limits it.** The best intent-aware figure measured on this split before this notebook
# is gated MiniLM item text + ID under DICE, NDCG@10 0.1282 against ID + PDA's 0.1245 (+3%,
# 3 seeds), far from +10%; text users hurt in every variant. The table above (full mode) adds
# users from their own interaction texts, the UniSRec-style encoder and the deconfounded
# head; a first single-seed look (seed 0) gave ID + PDA 0.117, users from their own titles +
# PDA 0.040, ID + deconfounded 0.056 — worse, not better. The likely limits: MovieLens-100K has no reviews, so a user's "own interaction
# texts" are the titles of the films they rated, which a frozen sentence model reads as
# titles rather than tastes; with 80k ratings over 1,682 items the ID table already knows
# every item; and the intervened test rewards popularity-flattened ranking, which text does
# not address. The text path pays off where IDs are weak: cold items, sparse users, and, on
# the simulator, the structure of the deconfounded outcome model.
