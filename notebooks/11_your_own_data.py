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
# # 11 · Your own data: a public debiasing dataset from files, preprocessed and trained
#
# **Question.** You have downloaded a dataset - here Coat (Schnabel et al. 2016,
# "Recommendations as Treatments: Debiasing Learning and Evaluation") - or you have your own
# logs. How do the files become a dataset causalrec can train on, what does preprocessing
# remove, and does a debiasing head do better than naive training when it is judged on the
# *randomized* ratings rather than on more self-selected ones?
#
# **Method.** `cr.data.load("coat", path=...)` reads Coat's files exactly as published:
# `train.ascii` (ratings of coats the users chose: missing not at random) and `test.ascii`
# (16 coats per user drawn uniformly at random), both users x items matrices with 0 for
# "not rated", plus the one-hot user/item features. The randomized rows carry
# `policy == "random"`, which the `random_exposure` split (validation and test on the random
# rows only) and the intervened heads read. Preprocessing is its own step with RecBole's
# option names (Zhao et al. 2021) and reports what each rule removed. Then naive pointwise
# training, BPR (Rendle et al. 2009) and IPS (Schnabel et al. 2016) are trained on the biased
# ratings and evaluated on the randomized ones.
#
# Without the real files (CI, or before you download Coat) the notebook writes a synthetic
# dataset in exactly Coat's format (`cr.data.write_coat_sample`): the same pipeline, but
# the numbers are not Coat's. Point `COAT_PATH` at the unpacked `coat` folder for the real
# thing.

# %% tags=["parameters"]
QUICK = False  # CI runs this notebook with QUICK=True (small sample, 2 epochs)
COAT_PATH = None  # the unpacked coat folder (train.ascii, test.ascii, user_item_features/)

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import causalrec as cr

pd.set_option("display.precision", 4)
EPOCHS = 2 if QUICK else 30
OUT = Path(os.environ.get("CAUSALREC_OUTPUT") or tempfile.mkdtemp(prefix="causalrec-11-"))
if COAT_PATH is None:
    size = dict(n_users=80, n_items=100, per_user=12, test_per_user=8) if QUICK else {}
    path = cr.data.write_coat_sample(OUT / "coat-format-sample", seed=0, **size)
    print(f"synthetic data in Coat's format: {path}")
else:
    path = Path(COAT_PATH)

# %% [markdown]
# ## The files as a dataset
# Every rated cell becomes one interaction; `label = rating >= 4`. The two parts differ the
# way Schnabel et al. describe: users rate what they chose, and they choose what they like,
# so the self-selected ratings are higher than the randomized ones.

# %%
raw = cr.data.load("coat", path=path)
df = raw.interactions
print(raw.summary())
by_policy = df.groupby("policy")["rating"].agg(["size", "mean"]).rename(
    columns={"size": "ratings", "mean": "mean rating"})
by_policy["share rated >= 4"] = df.groupby("policy")["label"].mean()
by_policy

# %%
dist = (df.groupby("policy")["rating"].value_counts(normalize=True).unstack(0)
        .reindex(range(1, 6)).fillna(0))
ax = dist.plot.bar(figsize=(6, 3), rot=0)
ax.set(xlabel="rating", ylabel="share of the part's ratings",
       title="Self-selected (logging) vs randomized ratings")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Preprocessing, with what each rule removed
# The rules are the ones a `preprocess:` block in a dataset YAML sets (or
# `dataset.source.preprocess.<option>=...` on the command line). Here: drop exact duplicate
# rows, keep one rating per (user, item), a k-core (users with at least 15 ratings, items
# with at least 25 - 10 in QUICK mode -, repeated until stable) and users with at least one
# positive left. The rules see every row, the randomized ones too: a k-core changes the
# unbiased test as well, which is why the report says what went.

# %%
rules = {"drop_exact_duplicates": True, "rm_dup_inter": "last",
         "user_inter_num_interval": "[15,inf)",
         "item_inter_num_interval": "[10,inf)" if QUICK else "[25,inf)",
         "min_user_positives": 1}
data = cr.data.load("coat", path=path, preprocess=rules)
cr.data.preprocess_report(data)

# %% [markdown]
# ## Training on the biased ratings, testing on the randomized ones
# `cr.experiment.run(overrides, data=...)` takes the preprocessed dataset in memory;
# `dataset=coat` supplies the protocol (train on `policy == "logging"`, validate and test on
# `policy == "random"`). The run records fingerprint the data.

# %%
common = ["dataset=coat", "logger=none", f"trainer.max_epochs={EPOCHS}",
          "trainer.enable_progress_bar=false", "encoder.dim=32", "seed=0"]
rows = {}
for head in ("naive", "bpr", "ips"):
    m = cr.experiment.run([f"head={head}", *common], data=data, output_dir=OUT / "runs" / head)
    rows[head] = {k.split("/")[1]: m[k] for k in ("test/ndcg@10", "test/recall@10",
                                                  "test/tail_share@10") if k in m}
results = pd.DataFrame(rows).T
results

# %%
ax = results[["ndcg@10", "recall@10"]].plot.bar(figsize=(6, 3), rot=0)
ax.set(ylabel="on the randomized test ratings", title="Naive vs BPR vs IPS")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Reading.** The self-selected ratings are far higher than the randomized ones (on the
# synthetic sample a mean of about 4.1 against 2.4, 76% against 21% rated 4 or more): a
# model judged on held-out *self-selected* ratings is judged on the same bias it learned.
# The table of removals is the record of what the data lost before training, rule by rule.
# The three heads are then judged on ratings no user chose, the evaluation Schnabel et al.
# argue for; these are one seed on a synthetic sample (QUICK: two epochs), so their order
# means nothing yet - run the notebook on the real Coat files (`COAT_PATH`) with several
# seeds (`cr.experiment.sweep`) before reading anything into it.
