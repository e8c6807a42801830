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
# # 09 · Feedback loops: recommenders that retrain on their own logs
#
# **Question.** A deployed recommender decides what users see; the next model learns from
# what it showed. Does that loop concentrate exposure on popular items and homogenise feeds
# (Chaney, Stewart and Engelhardt 2018; Mansoury et al. 2020) — and do debiasing or uplift
# heads, which use the logged propensities, stop it? Second: ranking by the *effect* of
# recommending instead of the chance of a purchase (Sato et al. 2019, 2020, 2021).
#
# **Method.** (a) `task=loop` (`causalrec.experiment.tasks.loop`): round 0 is the static
# simulator's log (`popularity_bias` graph: popularity and latent intent confound exposure);
# in each later round the head is retrained (warm start) on every row logged so far, scores
# every item through the `Recommender`, and a softmax policy with known propensities shows
# items among each user's candidates; the structural model draws the outcomes. Heads: naive,
# IPS and DR-JL (with the loop's true propensities) and the uplift head ULRMF. Per round we
# read the truth: popularity concentration (Gini of exposures), intra-user diversity, the true
# value of the policy, and the bias of a naive offline ("replay") estimate of it.
# (b) The semi-synthetic uplift protocol on ML-100K (`dataset=ml100k_uplift`,
# `causalrec.sim.uplift`, after Sato et al. 2020's generator): the purchase probability when
# recommended comes from the MF-completed rating, the organic one from a logistic MF of what
# users watched, and a rank-based logging policy recommends about 100 items per user with
# known propensities. Both potential outcomes of every pair are known, so CP@10 (mean true
# effect of the top 10) compares outcome ranking (BPR) with uplift ranking.

# %% tags=["parameters"]
QUICK = False  # CI runs this notebook with QUICK=True (1 seed, 3 rounds, a small world)

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import causalrec as cr
from causalrec.experiment.tasks.loop import simulate_loop

pd.set_option("display.precision", 4)
SEEDS = [0] if QUICK else [0, 1, 2, 3, 4]
ROUNDS = 3 if QUICK else 10
WORLD = (["study.simulator.n_users=150", "study.simulator.n_items=50",
          "study.simulator.per_user=10", "study.candidates=10", "study.epochs_per_round=1"]
         if QUICK else ["study.simulator.n_users=2000", "study.simulator.n_items=300"])
HEADS = {"naive": ["head=naive"], "IPS": ["head=ips"], "DR-JL": ["head=dr_jl"],
         "ULRMF (uplift)": ["head=ulrmf"]}
OUT = Path(os.environ.get("CAUSALREC_OUTPUT") or tempfile.mkdtemp(prefix="causalrec-09-"))

# %% [markdown]
# ## (a) Ten rounds of the loop, four heads
# `simulate_loop` returns the per-round metrics (what the `loop` task records as
# `round/<r>/<metric>`).

# %%
frames = []
for name, overrides in HEADS.items():
    for seed in SEEDS:
        cfg = cr.experiment.compose(["experiment=feedback_loop", *overrides, f"seed={seed}",
                                     f"study.rounds={ROUNDS}", *WORLD,
                                     f"paths.output_dir={OUT}"])
        per_round, _ = simulate_loop(cfg)
        frames.append(per_round.assign(head=name, seed=seed))
rounds = pd.concat(frames, ignore_index=True)
rounds.groupby(["head", "round"])[["gini", "intra_diversity", "value", "naive_bias"]].mean()

# %%
fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
for ax, (metric, label) in zip(axes, [("gini", "popularity Gini of exposures"),
                                      ("intra_diversity", "intra-user topic diversity"),
                                      ("value", "true policy value"),
                                      ("naive_bias", "bias of naive offline estimate")]):
    for name, g in rounds.groupby("head", sort=False):
        s = g.groupby("round")[metric]
        mean = s.mean()
        se = s.std(ddof=1) / np.sqrt(s.count()) if len(SEEDS) > 1 else 0 * mean
        ax.plot(mean.index, mean.values, marker="o", ms=3, label=name)
        ax.fill_between(mean.index, mean - se, mean + se, alpha=0.2)
    ax.set_title(label, fontsize=10)
    ax.set_xlabel("round (0 = logging policy)")
axes[0].legend(fontsize=8)
fig.suptitle("Closed loop on the simulator: mean over seeds, band = ±1 SE")
fig.tight_layout()

# %% [markdown]
# **How much does each head amplify popularity?** The change of the exposure Gini from the
# first deployed round to the last, per seed; paired against naive (same seeds, same worlds).

# %%
first, last = 1, ROUNDS - 1
change = (rounds[rounds["round"] == last].set_index(["head", "seed"])["gini"]
          - rounds[rounds["round"] == first].set_index(["head", "seed"])["gini"]).unstack(0)
rows = []
for name in HEADS:
    d = change[name]
    diff = change[name] - change["naive"]
    n = len(d)
    rows.append({"head": name, "Gini change (mean)": d.mean(),
                 "SE": d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                 "vs naive": diff.mean(),
                 "vs naive in SE": diff.mean() / (diff.std(ddof=1) / np.sqrt(n))
                 if n > 1 and diff.std(ddof=1) > 0 else np.nan})
amplification = pd.DataFrame(rows).set_index("head")
amplification

# %% [markdown]
# Reading (measured with `scripts/bench/loop.py --users 1000 --items 200 --heads
# naive,ips,dr_jl,ulrmf --seeds 5`, 10 rounds): Gini change from the first to the last
# deployed round naive +0.149 ± 0.006 (SE), IPS +0.154 ± 0.008, DR-JL +0.316 ± 0.008; ULRMF
# with Sato et al.'s labelling (a CN row positive with probability alpha = 0.5), re-measured
# with `--heads naive,ulrmf`: -0.003 ± 0.008 against naive +0.150 ± 0.006 (the earlier
# labelling gave -0.058 ± 0.007). Plainly: IPS with the true propensities does **not**
# amplify less than naive, DR-JL amplifies more, and only the uplift head (ranking by the
# effect of recommending) stops the concentration, by about 21 SE of the paired difference. A head "amplifies significantly
# less" when its paired difference is below -3 SE. In QUICK mode (one seed, three rounds) no
# SE exists and nothing should be read into the numbers.

# %% [markdown]
# ## (b) Uplift vs outcome ranking on the semi-synthetic ML-100K protocol
# Both potential outcomes are known, so the causal precision CP@10 — the mean true effect of
# recommending the top 10 — is exact. BPR ranks by purchase; ULRMF/ULBPR/DLCE by the effect.
# A liked item that users rarely find by themselves has a large effect; a popular one, bought
# anyway, a small or negative one.
# Model selection never sees the truth: BPR early-stops on the validation outcome NDCG@10,
# the uplift heads (`model.monitor: auto`) on `val/ips_cdcg@10`, the IPS-unbiased estimate of
# causal DCG@10 computed from the logged validation rows and their propensities only (Sato et
# al. 2020; `causalrec.evaluation.logged_causal_metrics`). The dashed line is the expected
# CP@10 of a uniformly random ranking (each user's mean effect).

# %%
from causalrec.evaluation import causal_ranking_metrics
from causalrec.sim.uplift import simulate_uplift

UPLIFT_HEADS = {"BPR (outcome)": "bpr", "ULRMF": "ulrmf", "DLCE": "dlce"}
if not QUICK:
    UPLIFT_HEADS |= {"ULBPR": "ulbpr"}
src = (["dataset.source.iters=3", "dataset.source.sato.watch_iters=10",  # a cheaper truth
        "dataset.source.sato.control_negatives=20"] if QUICK else [])
cp, random_cp, truths = [], {}, {}
for name, head in UPLIFT_HEADS.items():
    for seed in SEEDS[:1] if QUICK else SEEDS[:3]:
        run_dir = OUT / "uplift" / f"{head}-{seed}"
        m = cr.experiment.run(["dataset=ml100k_uplift", f"head={head}", f"seed={seed}", *src,
                               "logger=none", "trainer.enable_progress_bar=false",
                               f"trainer.max_epochs={2 if QUICK else 20}", "encoder.dim=32",
                               "model.optimizer.lr=0.005", "model.early_stopping_patience=3",
                               "model.causal_metrics=true"], output_dir=run_dir)
        cfg, dm, module = cr.experiment.load_model(run_dir)
        if seed not in truths:  # the same source options and seed: the run's truth
            opts = {k: v for k, v in cfg.dataset.source.items() if k not in ("_target_", "source")}
            truths[seed] = simulate_uplift(cfg.dataset.source.source, **opts)[1]
        truth = truths[seed]
        random_cp[seed] = float(truth.tau.mean(1).mean())
        cp.append({"head": name, "seed": seed, "monitor": cfg.model.monitor,
                   "test IPS CDCG@10 (logged)": m.get("test/ips_cdcg@10"),
                   **causal_ranking_metrics(module.head, truth.tau, ks=(10,))})
cp = pd.DataFrame(cp)
summary = cp.groupby("head", sort=False)[["cp@10", "cdcg@10"]].agg(["mean", "sem"])
ax = summary[("cp@10", "mean")].plot.bar(yerr=summary[("cp@10", "sem")], figsize=(6, 3),
                                         color=["gray"] + ["tab:green"] * (len(summary) - 1))
ax.axhline(0, color="black", lw=0.8)
ax.axhline(np.mean(list(random_cp.values())), color="tab:red", ls="--", lw=1,
           label="random ranking (expected)")
ax.legend(loc="lower right", fontsize=8)
ax.set_ylabel("CP@10 (true mean effect of the top 10)")
ax.set_title("Ranking by effect vs by outcome (error bars: SE over seeds)")
summary.columns = [f"{metric} {stat}" for metric, stat in summary.columns]
cp.groupby("head", sort=False)[["monitor"]].first().join(summary)

# %% [markdown]
# **Measured** (`scripts/bench/uplift.py --seeds 5 --epochs 20`; 5 seeds, dim 32, each head
# selected on its own validation metric, Sato et al.'s design), CP@10 mean ± SE and the
# paired gain over BPR in SE of the per-seed difference: BPR -0.276 ± 0.004; a pointwise
# outcome model -0.025 ± 0.004; ULRMF 0.169 ± 0.003 (+191 SE); ULBPR 0.140 ± 0.003 (+62);
# DLCE 0.137 ± 0.005 (+61); CUBN 0.136 ± 0.001 (+85); references: a T-learner 0.180 ± 0.003
# (`--heads T-learner`), a uniformly random ranking 0.115, ranking by the true effect 0.321. CDCG@10: BPR -1.29, ULRMF 0.765, ULBPR 0.599, DLCE
# 0.631, CUBN 0.622, random 0.523.
#
# Plainly: every uplift head beats outcome-ranking BPR by far more than 3 SE, and — unlike on
# the first design — every one is also above a random ranking (paired, CP@10: ULRMF +0.054,
# 21 SE; CUBN +0.021, 26 SE; ULBPR +0.025, 9 SE; DLCE +0.022, 4 SE). They remain far from the
# oracle (0.32). Ranking by purchase is *below* random here because what users buy without a
# recommendation is what they watch anyway — the items with the smallest effect — so the
# "beats BPR" margin is large by construction; the comparison with random and with the oracle
# is the informative one. Logging all 1.59M pairs instead of 100 sampled control negatives
# per user (`dataset.source.sato.control_negatives=null`, 3 seeds) gives ULRMF 0.161, ULBPR
# 0.160, DLCE 0.160, CUBN 0.140, BPR -0.236: the same reading. The first design (one latent z drives both outcomes and the
# logging; `dataset=ml100k_uplift_single_z`, `--dataset ml100k_uplift_single_z`), where every
# matrix-factorisation head fell below random as it trained, stays reproducible.
