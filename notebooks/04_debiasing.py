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
# # 04 · Debiasing heads, and why the test set decides who wins
#
# **Question.** A recommender's logs are *missing not at random*: what a user rated or clicked
# depends on what the old system exposed, and that exposure follows popularity and the user's
# intent. Debiasing heads re-weight or re-model training to target what users would do under
# a *different* exposure. Do they help — and can we even tell, if we test on the same biased logs?
#
# **Method.** Two studies, every model trained through `causalrec.experiment.run`:
#
# * **(a) MovieLens-100K, RecBole-Debias "intervened" protocol** (Bonner & Vasile 2018,
#   "Causal Embeddings for Recommendation"; Zheng et al. 2021; the RecBole-Debias toolkit).
#   Half of the ratings are kept as normal logs; the other half is resampled by inverse item
#   popularity into an *intervened* set with near-uniform item exposure. Training sees all
#   normal logs and 25 % of the intervened set; validation and test are intervened (25 % /
#   50 %), so the test rewards preference, not popularity. Heads: naive MF (pointwise BCE with
#   sampled negatives), MF-IPS (Schnabel et al. 2016, "Recommendations as Treatments"), PDA
#   (Zhang et al. 2021, popularity deconfounding), and in the full run MACR (Wei et al. 2021,
#   counterfactual inference that subtracts the popularity path at test time) and DICE
#   (Zheng et al. 2021, disentangled interest and conformity embeddings). Error bars over seeds,
#   beside the RecBole-Debias published NDCG@10.
# * **(b) Simulated world with a randomized test set** (`dataset=synthetic`: the
#   `popularity_bias` graph of `causalrec.sim.world`, where popularity and latent intent
#   confound exposure and click). Heads: naive, IPS and SNIPS (Schnabel et al. 2016;
#   Swaminathan & Joachims 2015) and doubly robust joint learning DR-JL (Wang et al. 2019,
#   "Doubly Robust Joint Learning for Recommendation on Data Missing Not at Random"), the IPS
#   family with the simulator's logged propensities. Each model is trained on a random split
#   of the *logs* and then evaluated twice: on the held-out logs (the usual offline
#   evaluation, biased) and on the simulator's randomized-exposure rows for the same users
#   (unbiased, like the missing-at-random test sets of Yahoo! R3 and Coat). A third view
#   re-weights the logged test by inverse item propensity (SNIPS ranking metrics, Yang et al.
#   2018, "Unbiased Offline Recommender Evaluation for Missing-Not-At-Random Implicit Feedback").

# %% tags=["parameters"]
QUICK = False  # CI runs this notebook with QUICK=True (2 seeds, 1-6 epochs, small simulator)

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate

import causalrec as cr
from causalrec.evaluation.value import auc

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pd.set_option("display.precision", 4)
SEEDS = [0, 1] if QUICK else [0, 1, 2]
OUT = Path(os.environ.get("CAUSALREC_OUTPUT") or tempfile.mkdtemp(prefix="causalrec-04-"))
QUIET = ["logger=none", "trainer.enable_progress_bar=false"]

# %% [markdown]
# ## (a) ml-100k, intervened test
# The settings are those of the heads benchmark (`scripts/bench/train_ml100k.py`): ID embeddings
# of size 64, Adam at lr 0.002, batch 2048, early stopping on `val/ndcg@10`. MF-IPS uses user
# popularity propensities as in that benchmark.

# %%
HEADS_A = {"MF": ["head=naive"],
           "MF-IPS": ["head=ips", "head.propensity.by=user", "head.propensity.eta=0.5"],
           "PDA": ["head=pda"]}
if QUICK:  # CI: the naive baseline and one debiasing head
    HEADS_A = {k: HEADS_A[k] for k in ("MF", "PDA")}
else:
    HEADS_A |= {"MACR": ["head=macr"], "DICE": ["head=dice"]}
PUBLISHED = {"MF": 0.0969, "MF-IPS": 0.1011, "PDA": 0.1125, "MACR": 0.1008, "DICE": 0.1028}
COMMON_A = ["dataset=ml100k_intervened", "encoder.dim=64", "model.optimizer.lr=0.002",
            "dataset.batch_size=2048", f"trainer.max_epochs={1 if QUICK else 60}",
            "model.early_stopping_patience=5", *QUIET]

rows = []
for name, overrides in HEADS_A.items():
    for seed in SEEDS:
        m = cr.experiment.run(COMMON_A + overrides + [f"seed={seed}"],
                              output_dir=OUT / "intervened" / f"{name}-{seed}")
        rows.append({"head": name, "seed": seed, **{k[5:]: v for k, v in m.items()
                                                    if k.startswith("test/") and "@10" in k}})
        print(f"{name:<7} seed {seed}: ndcg@10 {m['test/ndcg@10']:.4f}")
runs_a = pd.DataFrame(rows)

# %% [markdown]
# The same records can be read back from disk at any time with `cr.experiment.load_runs`:

# %%
cr.experiment.load_runs(OUT / "intervened")[["seed", "test/ndcg@10", "test/recall@10",
                                             "wall_time_s"]].head()

# %%
cols = ["ndcg@10", "recall@10", "coverage@10", "gini@10", "tail_share@10"]
summary_a = runs_a.groupby("head", sort=False)[cols].agg(["mean", "std"])
summary_a[("ndcg@10", "published")] = [PUBLISHED[h] for h in summary_a.index]
summary_a

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
x = np.arange(len(summary_a))
for ax, col in zip(axes, ["ndcg@10", "recall@10", "tail_share@10"]):
    ax.bar(x, summary_a[(col, "mean")], yerr=summary_a[(col, "std")], capsize=5, alpha=0.7,
           label=f"causalrec, mean ± std over {len(SEEDS)} seeds")
    for i, h in enumerate(summary_a.index):
        v = runs_a.loc[runs_a["head"] == h, col]
        ax.scatter(np.full(len(v), i), v, color="black", s=10, zorder=3)
    if col == "ndcg@10":
        ax.scatter(x, summary_a[("ndcg@10", "published")], marker="_", s=600, color="tab:red",
                   zorder=4, label="RecBole-Debias (published)")
        ax.legend(fontsize=8)
    ax.set_xticks(x, summary_a.index)
    ax.set_title(f"intervened test {col}")
fig.tight_layout()

# %% [markdown]
# **Reading (a).** On the intervened test every item had about the same chance to be observed,
# so a model can no longer score by recommending the blockbusters. In our full run (3 seeds,
# settings above) every debiasing head beat naive MF on average (NDCG@10 mean ± std: MF
# 0.115 ± 0.008, MF-IPS 0.120 ± 0.005, PDA 0.125 ± 0.010, MACR 0.123 ± 0.006, DICE
# 0.123 ± 0.008; RecBole-Debias publishes MF 0.0969, MF-IPS 0.1011, PDA 0.1125, MACR 0.1008,
# DICE 0.1028, the red marks), PDA had the highest mean as in the published table, and PDA gave
# three times as many top-10 slots to the long tail (tail share 0.111 against 0.035 for MF).
# But the gaps between heads are about one standard deviation over seeds (MF alone ranged from
# 0.106 to 0.123), which is why the plot shows every seed: a ranking of heads on one seed is not
# a result. In QUICK mode (1 epoch) all heads are far from converged and the numbers only show
# that the pipeline runs.

# %% [markdown]
# ## (b) A simulated world: biased versus unbiased evaluation
# The simulator logs, for each user, candidate items drawn by intent and popularity, an exposure
# decision of the logging policy (missing not at random) and the click; for a held-out sample of
# users it also logs *uniformly random* items with exposure probability 0.5: the randomized
# test set. We train on a random 8:1:1 split of the logs only
# (`+dataset.source.include_randomized=false` and the `random` split protocol), so the run's own
# test metrics are the usual biased offline evaluation. Then we rebuild each trained model from
# its run record and score the randomized rows of the same world.

# %%
SIM_SIZE = (["dataset.source.n_users=500", "dataset.source.n_items=120"] if QUICK else
            ["dataset.source.n_users=2000", "dataset.source.n_items=500"])
COMMON_B = ["dataset=synthetic", "+dataset.source.include_randomized=false",
            "dataset.source.randomized_users=0.3", "~dataset.split.randomized_policy",
            "~dataset.split.valid_ratio", "dataset.split.protocol=random",
            "encoder.dim=16", "model.optimizer.lr=0.01", "dataset.batch_size=256",
            f"trainer.max_epochs={6 if QUICK else 30}", *SIM_SIZE, *QUIET]
LOGGED_P = ["head.propensity=null", "head.clip=0.05"]  # the simulator's logged propensities
HEADS_B = {"naive": ["head=naive"], "IPS": ["head=ips", *LOGGED_P],
           "SNIPS": ["head=snips", *LOGGED_P], "DR-JL": ["head=dr_jl", *LOGGED_P]}
if QUICK:
    del HEADS_B["SNIPS"]


def evaluate_both(run_dir: Path) -> dict:
    """Biased (held-out logs), IPS-weighted logs and randomized-test views of one model."""
    cfg, dm, module = cr.experiment.load_model(run_dir)  # config, data, trained model
    # the same world (same config and seed) with its randomized-exposure rows
    full = instantiate(cfg.dataset.source, include_randomized=True)
    randomized = full.subset(full.interactions["policy"].to_numpy() == "random")
    out = {}
    views = {"logged test": dm.split, "randomized test":
             cr.data.Split(dm.split.train, dm.split.valid, randomized, protocol="randomized")}
    for view, split in views.items():
        # the one evaluation loop: seen (train + valid) items masked, RecBole's averaging;
        # on the logged test also SNIPS-weighted recall with item propensities (Yang et al. 2018)
        m = cr.evaluation.evaluate(module.head, split, ks=[10], metrics=["ndcg", "recall"],
                                   ips_eta=0.5 if view == "logged test" else None)
        out[f"{view} ndcg@10"] = m["test/ndcg@10"]
        out[f"{view} recall@10"] = m["test/recall@10"]
        if view == "logged test":
            out["logged test, SNIPS recall@10"] = m["test/snips_recall@10"]
        exposed = split.test.interactions
        exposed = exposed[exposed["exposure"] > 0]
        with torch.no_grad():
            s = module.head.score(torch.as_tensor(exposed["user"].to_numpy()),
                                  torch.as_tensor(exposed["item"].to_numpy())).numpy()
        out[f"{view} AUC"] = auc(s, exposed["label"].to_numpy())
    return out


rows = []
for name, overrides in HEADS_B.items():
    for seed in SEEDS:
        run_dir = OUT / "simulator" / f"{name}-{seed}"
        m = cr.experiment.run(COMMON_B + overrides + [f"seed={seed}"], output_dir=run_dir)
        rows.append({"head": name, "seed": seed, "run test/ndcg@10": m["test/ndcg@10"],
                     **evaluate_both(run_dir)})
        print(f"{name:<6} seed {seed}: logged test ndcg@10 {m['test/ndcg@10']:.4f}, "
              f"randomized test ndcg@10 {rows[-1]['randomized test ndcg@10']:.4f}")
runs_b = pd.DataFrame(rows)
runs_b

# %% [markdown]
# `logged test ndcg@10` reproduces the run's own `test/ndcg@10` (same split, same masking),
# which checks that the model rebuilt from the record is the one that was tested.

# %%
assert np.allclose(runs_b["run test/ndcg@10"], runs_b["logged test ndcg@10"], atol=1e-4)
metric_cols = [c for c in runs_b.columns if c not in ("head", "seed", "run test/ndcg@10")]
summary_b = runs_b.groupby("head", sort=False)[metric_cols].agg(["mean", "sem"])
summary_b.T

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
x = np.arange(len(summary_b))
views = [("logged test ndcg@10", "biased: held-out logs", "tab:grey"),
         ("randomized test ndcg@10", "unbiased: randomized test", "tab:green")]
for j, (col, label, color) in enumerate(views):
    axes[0].bar(x + (j - 0.5) * 0.38, summary_b[(col, "mean")], 0.38,
                yerr=summary_b[(col, "sem")], capsize=4, color=color, label=label)
axes[0].set_xticks(x, summary_b.index)
axes[0].set_title("NDCG@10 of the same models, two test sets")
axes[0].legend(fontsize=8)
for j, (col, label, color) in enumerate([("logged test AUC", "biased: held-out logs",
                                          "tab:grey"),
                                         ("randomized test AUC", "unbiased: randomized test",
                                          "tab:green")]):
    axes[1].bar(x + (j - 0.5) * 0.38, summary_b[(col, "mean")], 0.38,
                yerr=summary_b[(col, "sem")], capsize=4, color=color, label=label)
axes[1].set_ylim(0.45, None)
axes[1].set_xticks(x, summary_b.index)
axes[1].set_title("click AUC on exposed rows")
gap = runs_b["logged test ndcg@10"] - runs_b["randomized test ndcg@10"]
axes[2].scatter(runs_b["logged test ndcg@10"], runs_b["randomized test ndcg@10"],
                c=pd.factorize(runs_b["head"])[0], cmap="tab10", s=30)
for h, grp in runs_b.groupby("head", sort=False):
    axes[2].annotate(h, (grp["logged test ndcg@10"].mean(),
                         grp["randomized test ndcg@10"].mean()), fontsize=8)
lim = [0, max(runs_b["logged test ndcg@10"].max(), runs_b["randomized test ndcg@10"].max())
       * 1.1]
axes[2].plot(lim, lim, ls="--", color="grey", lw=1)
axes[2].set_xlabel("NDCG@10 on held-out logs (biased)")
axes[2].set_ylabel("NDCG@10 on randomized test (unbiased)")
axes[2].set_title("each dot: one model (head x seed)")
fig.tight_layout()
print("mean biased - unbiased NDCG@10 gap:", round(float(gap.mean()), 4))

# %% [markdown]
# ## Which head would each evaluation pick?

# %%
ranks = pd.DataFrame({
    view: summary_b[(col, "mean")].rank(ascending=False).astype(int)
    for view, col in [("held-out logs (NDCG@10)", "logged test ndcg@10"),
                      ("held-out logs, SNIPS-weighted (Recall@10)",
                       "logged test, SNIPS recall@10"),
                      ("randomized test (NDCG@10)", "randomized test ndcg@10"),
                      ("randomized test (AUC)", "randomized test AUC")]})
ranks

# %% [markdown]
# **Reading (b).** The two test sets disagree in *level*: on the held-out logs the clicked items
# are the ones the popularity- and intent-driven logging policy put in front of the user, so
# every model looks far better there than on the randomized rows, where each item had the same
# chance to be shown (in the QUICK run NDCG@10 is about 0.09-0.15 on the logs against 0.05-0.06
# on the randomized test; every dot lies below the diagonal). The logs also exaggerate the
# *differences* between heads: gaps of several hundredths on the logs shrink to about one
# hundredth on the randomized test, where the error bars are much tighter too. And they can
# disagree in *order* — the rank table shows which head each evaluation would pick. Only the
# randomized test measures what the debiasing heads target (the click under an exposure that
# does not follow popularity). Re-weighting the logged test by inverse item propensity
# (SNIPS, Yang et al. 2018) barely moves it here: it can only correct the bias its propensity
# model knows about (item popularity), not the selection by the user's latent intent, and it
# cannot create the items the logging policy never showed. In our full run (3 seeds, 2000 users
# x 500 items, 30 epochs; the IPS-family heads learn from the exposed rows only, weighted by
# 1/P(exposed), as in Schnabel et al. 2016) NDCG@10 on the held-out logs was naive 0.080,
# IPS 0.062, SNIPS 0.062, DR-JL 0.094, and on the randomized test naive 0.0147, IPS 0.0142,
# SNIPS 0.0138, DR-JL 0.0175 (standard errors about 0.002): the logs open a 0.06 gap to the
# randomized test for every head and spread the heads out about nine times wider than the randomized
# test does; on the randomized test IPS and SNIPS are indistinguishable from naive, and only
# DR-JL - whose imputation model also learns from the unexposed rows - is ahead, on both test
# sets. By click AUC on exposed randomized rows naive, IPS and SNIPS sit at 0.52-0.53 and
# DR-JL at 0.58. With QUICK settings (6 epochs, a 500-user world, 2 seeds) no head is reliably
# better than naive; the heads benchmark `scripts/bench/heads_simulator.py` measures
# IPS/SNIPS/DR-JL against naive over 5 seeds on a larger world.
#
# **Take-away.** Report debiasing results on an unbiased test — an intervened or randomized
# set, or at least an IPS-corrected metric — and with error bars over seeds; on the biased logs
# the naive model's ability to imitate the old policy looks like accuracy.
