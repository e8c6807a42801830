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
# # 08 · Privacy: what does a guarantee cost, and what does "unsupervised" give?
#
# **Question.** The documents this framework implements claim that extracting intent with a
# language model protects privacy "because it is unsupervised". Is that a guarantee? If we
# want a real one, differential privacy (DP), how much ranking quality does it cost, and can
# an attacker tell from a trained model whether a user's data was used?
#
# **Guarantee.** A training algorithm is (ε, δ)-DP at the level of users if adding or
# removing *one user with all of their interactions* changes the probability of any output
# by at most a factor $e^\varepsilon$ (plus δ). `privacy=dp` trains with DP-SGD (Abadi et al.
# 2016): every step Poisson-samples users (each with probability $q$), clips each sampled
# user's gradient to norm $C$, adds Gaussian noise $\mathcal N(0, \sigma^2 C^2)$, and
# Opacus's accountant turns $(q, \sigma, \text{steps})$ into ε. Clipping only touches the
# embedding rows a user used, so a DP epoch costs 1.4-1.8x a normal one on ml-100k
# (`scripts/bench/privacy.py` measures it side by side).
#
# **Designs.** What is noised, and what is treated as public, decides the utility:
#
# | design | shared (noised) parameters | public | never released |
# |---|---|---|---|
# | `all` | user and item embedding tables | item catalogue | nothing |
# | `joint` | item embedding table | item catalogue | each user's embedding (used only for that user: joint DP, Jain et al. 2018; Chien et al. 2021) |
# | `public_items` | projection of item-text embeddings | item text + the pretrained MiniLM | each user's embedding |
#
# Joint DP (Kearns et al. 2014; the billboard lemma of Hsu et al. 2014): everything user
# $v$ receives depends on user $u$ only through the DP-trained shared parameters, so $v$'s
# recommendations reveal about $u$ no more than ε allows; $u$'s own embedding is computed
# from $u$'s data for $u$, as on $u$'s device.

# %% tags=["parameters"]
QUICK = False  # True in CI: a small generated dataset, ε in {1, 8}, two designs, 1 shadow

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import causalrec as cr
from causalrec.privacy import (
    advantage_bound,
    audit_row,
    fit_on,
    lira_offline,
    loss_scores,
    membership_split,
)

if QUICK:
    BASE = ["logger=none", "trainer.enable_progress_bar=false", "model.diagnostics=false",
            "head=bpr", "dataset.source.n_users=120", "dataset.source.n_items=80",
            "dataset.source.per_user=12", "dataset.batch_size=256", "trainer.max_epochs=3",
            "model.optimizer.lr=0.02"]
    ENCODERS = {"id": ["encoder=id"]}
    DESIGNS = {"all": ("id", ["privacy.user_params=noised"]),
               "joint": ("id", ["privacy.user_params=local"])}
    EPSILONS, SHADOWS, DP_LR, Q = [1.0, 8.0], 1, 0.02, 0.2
else:  # MovieLens-100K, RecBole protocol (experiment=quickstart), as scripts/bench/privacy.py
    BASE = ["experiment=quickstart", "logger=none", "trainer.enable_progress_bar=false",
            "model.diagnostics=false", "trainer.max_epochs=20"]
    ENCODERS = {"id": ["encoder=id"], "minilm": ["encoder=minilm", "encoder.users=id"]}
    DESIGNS = {"all": ("id", ["privacy.user_params=noised"]),
               "joint": ("id", ["privacy.user_params=local"]),
               "public_items": ("minilm", ["privacy.user_params=local"])}
    EPSILONS, SHADOWS, DP_LR, Q = [1.0, 2.0, 4.0, 8.0], 2, 0.02, 0.1


def dp_overrides(design, eps):
    enc, extra = DESIGNS[design]
    return [*ENCODERS[enc], "privacy=dp", f"privacy.epsilon={eps}", f"privacy.design={design}",
            f"privacy.sample_rate={Q}", f"model.optimizer.lr={DP_LR}", *extra]


# %% [markdown]
# ## 1 · The price of a guarantee: NDCG@10 against ε
#
# Each point is one training run through the ordinary pipeline (`cr.experiment.run` with
# `privacy=dp privacy.epsilon=...`); its run record holds the spent ε and δ and which parts
# of the data were treated as public.

# %%
rows, records = [], {}
for name, overrides in ENCODERS.items():
    m = cr.experiment.run([*BASE, *overrides])
    rows.append({"design": f"non-private ({name})", "epsilon": math.inf,
                 "ndcg@10": m["test/ndcg@10"]})
for design in DESIGNS:
    for eps in EPSILONS:
        m = cr.experiment.run([*BASE, *dp_overrides(design, eps)])
        rows.append({"design": design, "epsilon": eps, "ndcg@10": m["test/ndcg@10"],
                     "spent": m["privacy/epsilon"], "delta": m["privacy/delta"]})
curve = pd.DataFrame(rows)
curve

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
for design in DESIGNS:
    d = curve[curve.design == design]
    ax.plot(d.epsilon, d["ndcg@10"], "o-", label=f"DP: {design}")
colors = iter(["black", "grey"])
for name in ENCODERS:
    y = curve.loc[curve.design == f"non-private ({name})", "ndcg@10"].item()
    ax.axhline(y, ls="--", color=next(colors), label=f"non-private ({name})")
ax.set_xscale("log", base=2)
ax.set_xlabel("ε (user-level, δ = 1/users)")
ax.set_ylabel("test NDCG@10")
ax.set_title("Utility of user-level DP")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Reading.** Noising every parameter (`all`) is the textbook DP-SGD and it is the worst
# design: every user's embedding row receives noise at every step but signal only when that
# user is sampled, and on ml-100k it stays at the level of a random ranking (NDCG@10 ≈ 0.007)
# at every ε. Keeping user embeddings with their users (`joint`) noises only what is
# shared, the item table: at ε = 8 it keeps 0.165 of the non-private 0.281 (59 %), at ε = 4
# 0.134. With public item text (`public_items`) the shared part is one 384 × 64 projection,
# whatever the number of items: it is the best design at small ε (0.093 at ε = 1, 81 % of
# its own non-private 0.115) but its ceiling is that of a text-only item side.
# (`scripts/bench/privacy.py`: 3 seeds, DP 10 epochs, q = 0.1, Adam lr 0.02; the
# non-private models are `experiment=quickstart`, 40 epochs with early stopping.)

# %% [markdown]
# ## 2 · Audit: can an attacker tell who was in the training set?
#
# Half of the users are members (their data trains the model), half are held out. The
# attacker holds the released model (design `all`: the whole model, user table included)
# and each user's interactions. Two attacks: the **loss threshold** (Yeom et al. 2018:
# members have lower pairwise loss) and **offline LiRA** (Carlini et al. 2022: the loss
# standardised by shadow models trained without the user). The advantage, max TPR − FPR,
# of any attack on an (ε, δ)-DP model is at most $(e^\varepsilon - 1 + 2\delta) /
# (e^\varepsilon + 1)$ (Kairouz, Oh and Viswanath 2015).

# %%
data = cr.experiment.compose(BASE)
from hydra.utils import instantiate  # noqa: E402

data = instantiate(data.dataset.source)
members, non_members, member_data = membership_split(data, 0.5, seed=0)
users = np.r_[members, non_members]
n = len(members)
audit = []
for label, overrides in [("non-private", ENCODERS["id"]), ("DP ε=1", dp_overrides("all", 1.0))]:
    cfg = cr.experiment.compose([*BASE, *overrides])
    target, private = fit_on(cfg, member_data, seed=0)
    eps = private.callback.epsilon if private else math.inf
    delta = private.callback.delta if private else 0.0
    score = loss_scores(target, data, users)
    audit.append({"model": label, **audit_row("loss threshold", score[:n], score[n:], eps, delta)})
    shadow_scores, shadow_in = [], []
    for k in range(SHADOWS):
        _, _, shadow_data = membership_split(data, 0.5, seed=100 + k)
        model, _ = fit_on(cfg, shadow_data, seed=100 + k)
        shadow_scores.append(loss_scores(model, data, users))
        shadow_in.append(np.isin(users, shadow_data.interactions["user"].unique()))
    stat = lira_offline(score, np.array(shadow_scores), np.array(shadow_in))
    audit.append({"model": label, **audit_row("offline LiRA", stat[:n], stat[n:], eps, delta)})
audit = pd.DataFrame(audit)
audit

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.5))
labels = [f"{r.model}\n{r.attack}" for r in audit.itertuples()]
ax.bar(labels, audit.advantage, color=["tab:red" if m == "non-private" else "tab:blue"
                                       for m in audit.model])
ax.scatter(labels, audit.bound.clip(upper=1.0), marker="_", s=900, color="black",
           label="DP bound on the advantage")
ax.set_ylabel("attack advantage (TPR − FPR)")
ax.set_ylim(0, 1.05)
ax.legend(fontsize=8)
ax.tick_params(axis="x", labelsize=8)
plt.show()
print(f"bound at ε=1, δ=1/users: {advantage_bound(1.0, 1 / data.n_users):.3f}")

# %% [markdown]
# **Reading.** Against the non-private model the attack is perfect (AUC 1.00 on ml-100k): a
# held-out user's embedding row was never trained, so their loss stays at chance while
# members' falls. Against the ε = 1 model the advantage is 0.10 (loss threshold) and 0.11
# (offline LiRA, 4 shadows) on ml-100k, far below the bound 0.46: the bound is a worst case
# over all attacks and all pairs of datasets, and this ε = 1 model also learned little. That
# the same attack is perfect on the non-private model is what makes its weakness on the DP
# model informative.

# %% [markdown]
# ## 3 · "Unsupervised, therefore private"?
#
# What the claim **does** give. A frozen language model extracts intent vectors without
# labels, so the vectors of user $u$ depend on $u$'s text alone. If nothing is fitted across
# users (a frozen encoder and a score computed from $u$'s own history), the recommendations
# of $v$ depend on no other user's data at all: nothing about $u$ can leak to $v$. The
# `public_items` design keeps that property for the item side and pays DP noise only for
# the one matrix it learns from everybody's interactions.
#
# What it does **not** give:
#
# 1. **No ε.** "Unsupervised" is a statement about labels, not about what an output reveals.
#    As soon as a projection, a head or the encoder itself is trained on interactions, the
#    model memorises its training users: the audit above tells members from non-members
#    almost perfectly on the non-private model.
# 2. **The text is the personal data.** A user's text (reviews, history titles, age,
#    occupation) is more identifying than their ID. causalrec keeps raw user text out of
#    run records, W&B and the embedding cache (which addresses vectors by sha256; tested in
#    `tests/privacy/test_raw_text.py`) — but a hash of a guessable text is a membership
#    oracle, as the cell below shows, and sentence embeddings can be inverted to a large
#    degree (Morris et al. 2023, "Text Embeddings Reveal (Almost) As Much As Text").
# 3. **Pretrained models memorise too.** The language model's own training data is outside
#    any guarantee given here.

# %%
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from causalrec.encoders.cache import EmbeddingCache, text_sha256  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    cache = EmbeddingCache(tmp, {"model": "demo"})
    stored = ["A 24-year-old woman (programmer) who watched 3 movies: Heat, Alien, Fargo."]
    cache.get(stored, lambda texts: np.zeros((len(texts), 4), dtype=np.float32))
    manifest = Path(cache.manifest_path).read_text()
    guesses = [f"A {age}-year-old woman (programmer) who watched 3 movies: Heat, Alien, Fargo."
               for age in range(18, 60)]
    found = [g for g in guesses if text_sha256(g) in manifest]
print("raw text in the manifest:", stored[0] in manifest)
print("dictionary attack on the hashes recovers:", found)
