"""The LM intent as a substitute confounder: user_intent, IntentPropensity, DeconfoundedHead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import InteractionData
from causalrec.encoders import IDEncoder
from causalrec.heads import DeconfoundedHead, IntentPropensity, PointwiseHead, user_intent


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _world(n_users=120, n_items=16, per_user=6, seed=0):
    """Users in two intent groups g, items of two types t; the intent drives both exposure
    (exposed mostly when g == t) and the click (likelier when g == t). The users' group is a
    user feature (what an upstream LM intent would give); the truth is mu1 for every pair."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n_users)
    t = np.arange(n_items) % 2
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    match = g[users] == t[items]
    exposure = rng.random(len(users)) < np.where(match, 0.85, 0.1)
    mu1 = _sigmoid(-2.0 + 2.5 * (g[:, None] == t[None, :]))
    label = (rng.random(len(users)) < mu1[users, items]).astype(np.float32)
    df = pd.DataFrame({"user": users, "item": items, "exposure": exposure.astype(np.float32),
                       "label": label * exposure})
    feats = pd.DataFrame({"group": g.astype(float) + 0.05 * rng.standard_normal(n_users)})
    data = InteractionData(df, n_users, n_items, name="toy", source="toy.inter",
                           user_features=feats)
    return data, g, t, mu1


def test_user_intent_features_clusters_and_errors():
    data, g, _, _ = _world()
    x = user_intent(data, source="features")
    assert x.shape == (data.n_users, 1)
    np.testing.assert_allclose([x.mean(), x.std()], [0.0, 1.0], atol=1e-9)
    one_hot = user_intent(data, source="features", clusters=2)
    assert one_hot.shape == (data.n_users, 2) and (one_hot.sum(1) == 1).all()
    labels = one_hot.argmax(1)
    assert (labels == g).all() or (labels == 1 - g).all()  # the planted groups, up to naming
    auto = user_intent(data, source="features", clusters="auto")
    assert auto.shape[1] == 2  # two well-separated groups: the silhouette picks k = 2
    with pytest.raises(ValueError, match="one of"):
        user_intent(data, source="demographics")
    with pytest.raises(ValueError, match="frozen user text vectors.*IDEncoder"):
        user_intent(data, IDEncoder(data, dim=4), source="encoder")
    with pytest.raises(ValueError, match="positive int"):
        user_intent(data, source="features", clusters=0)
    bare = InteractionData(data.interactions, data.n_users, data.n_items, name="toy",
                           source="bare.inter")
    with pytest.raises(ValueError, match="numeric user_features in bare.inter"):
        user_intent(bare, source="features")


def test_intent_propensity_recovers_planted_exposure():
    data, g, t, _ = _world(n_users=400, per_user=8)
    prop = IntentPropensity(intent="features", clusters=2, C=100.0).fit(data)
    users = torch.arange(data.n_users).repeat_interleave(data.n_items)
    items = torch.arange(data.n_items).repeat(data.n_users)
    p = prop(users, items).numpy().reshape(data.n_users, data.n_items)
    truth = np.where(g[:, None] == t[None, :], 0.85, 0.1)
    # an additive logit (intent + item) can represent this 2 x 2 table only approximately;
    # the matched / unmatched means are what IPS needs and they are recovered closely
    match = g[:, None] == t[None, :]
    assert abs(p[match].mean() - 0.85) < 0.05 and abs(p[~match].mean() - 0.1) < 0.05
    assert np.abs(p - truth).mean() < 0.06
    with pytest.raises(ValueError, match="one of"):
        IntentPropensity(intent="ids")


def test_deconfounded_scores_by_hand():
    data, _, _, _ = _world()
    torch.manual_seed(0)
    enc = IDEncoder(data, dim=4)
    prop = IntentPropensity(intent="features", clusters=2).fit(data)
    head = DeconfoundedHead(enc, data, prop, intent="features", clusters=2)
    assert torch.equal(head.intent_z, torch.as_tensor(prop.intent_, dtype=torch.float32))
    with torch.no_grad():
        for p in (head.item_bias.weight, head.item_response.weight,
                  head.user_exposure_coef.weight, head.bias):
            p.copy_(torch.randn_like(p))
    u, i = torch.tensor([0, 3, 7]), torch.tensor([1, 5, 2])
    a_hat = prop(u, i)
    want = ((enc.encode_users(u) * enc.encode_items(i)).sum(-1) + head.bias
            + head.item_bias.weight[i, 0] + (head.intent_z[u] * head.item_response.weight[i]).sum(-1)
            + head.user_exposure_coef.weight[u, 0] * torch.logit(a_hat))
    torch.testing.assert_close(head.score(u, i), want, rtol=1e-4, atol=1e-4)
    full = head.full_scores(u)
    torch.testing.assert_close(full[torch.arange(3), i], want, rtol=1e-4, atol=1e-4)
    assert full.shape == (3, data.n_items)
    no_prop = DeconfoundedHead(enc, data, None, intent="features", clusters=2)
    assert no_prop.exposure_logit is None
    with pytest.raises(ValueError, match="training data"):
        DeconfoundedHead(enc, None)


def _train(head, data, steps=400, lr=0.05):
    df = data.interactions
    df = df[df["exposure"] > 0]
    batch = {"user": torch.tensor(df["user"].to_numpy()),
             "item": torch.tensor(df["item"].to_numpy()),
             "label": torch.tensor(df["label"].to_numpy())}
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        head.loss(batch, head(batch)).backward()
        opt.step()


def _errors(head, mu1):
    with torch.no_grad():
        pred = torch.sigmoid(head.full_scores(torch.arange(len(mu1)))).numpy()
    return abs((pred - mu1).mean()), float(np.sqrt(((pred - mu1) ** 2).mean()))


def test_deconfounded_head_reduces_the_selection_bias_naive_keeps():
    """Trained on the exposed rows only (mostly intent-matched pairs), naive MF predicts the
    rarely exposed unmatched pairs badly; conditioning on the intent lets every user borrow
    the group's response. Errors are against the true mu1 of every (user, item) pair."""
    data, _, _, mu1 = _world()
    errors = {}
    for name in ("naive", "deconfounded", "no intent"):
        torch.manual_seed(0)
        enc = IDEncoder(data, dim=4)
        if name == "naive":
            head = PointwiseHead(enc, data, weight_decay=5.0)
        else:
            k = 2 if name == "deconfounded" else 1  # one cluster: intercept and item terms only
            head = DeconfoundedHead(enc, data, None, intent="features", clusters=k,
                                    weight_decay=5.0)
        _train(head, data)
        errors[name] = _errors(head, mu1)
    bias, rmse = errors["deconfounded"]
    assert bias < 0.5 * errors["naive"][0] and rmse < 0.8 * errors["naive"][1]
    assert bias < 0.5 * errors["no intent"][0] and rmse < 0.8 * errors["no intent"][1]


def test_deconfounded_bpr_loss_by_hand_and_errors():
    data, _, _, _ = _world()
    torch.manual_seed(0)
    enc = IDEncoder(data, dim=4)
    prop = IntentPropensity(intent="features", clusters=2).fit(data)
    head = DeconfoundedHead(enc, data, prop, intent="features", clusters=2, loss_type="bpr",
                            weight_decay=0.5, intent_l2=0.25)
    with torch.no_grad():
        for p in (head.item_bias.weight, head.item_response.weight,
                  head.user_exposure_coef.weight, head.bias):
            p.copy_(torch.randn_like(p))
    u, i, j = torch.tensor([0, 3, 7]), torch.tensor([1, 5, 2]), torch.tensor([4, 0, 9])
    batch = {"user": u, "item": i, "neg_item": j}
    d = head.score(u, i) - head.score(u, j)  # the global intercept cancels, nothing else
    eu, ei, ej = enc.encode_users(u), enc.encode_items(i), enc.encode_items(j)
    reg = (eu.pow(2).sum() + ei.pow(2).sum() + ej.pow(2).sum()) / 6
    ireg = (head.item_response.weight[torch.cat([i, j])].pow(2).sum()
            + head.user_exposure_coef.weight[u].pow(2).sum()) / 6
    want = -torch.log(torch.sigmoid(d)).mean() + 0.5 * reg + 0.25 * ireg
    torch.testing.assert_close(head.loss(batch, head(batch)), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(KeyError, match="dataset.sampling=pairwise"):
        head({"user": u, "item": i, "label": torch.ones(3)})
    with pytest.raises(ValueError, match="loss_type"):
        DeconfoundedHead(enc, data, None, intent="features", clusters=2, loss_type="hinge")


def test_deconfounded_bpr_learns_the_intent_x_item_preference():
    """Positives are the clicked pairs, negatives uniform items: with the intent term only
    (zero-dimensional ID vectors cannot rank), BPR puts each group's own item type first."""
    data, g, t, _ = _world(n_users=200, per_user=8)
    df = data.interactions[data.interactions["label"] > 0]
    rng = np.random.default_rng(0)
    batch = {"user": torch.tensor(df["user"].to_numpy()),
             "item": torch.tensor(df["item"].to_numpy()),
             "neg_item": torch.tensor(rng.integers(0, data.n_items, len(df)))}
    torch.manual_seed(0)
    enc = IDEncoder(data, dim=1)
    with torch.no_grad():
        enc.user_emb.weight.zero_()
    enc.user_emb.weight.requires_grad_(False)
    head = DeconfoundedHead(enc, data, None, intent="features", clusters=2, loss_type="bpr")
    opt = torch.optim.Adam([p for p in head.parameters() if p.requires_grad], lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        head.loss(batch, head(batch)).backward()
        opt.step()
    with torch.no_grad():
        s = head.full_scores(torch.arange(data.n_users)).numpy()
    match = g[:, None] == t[None, :]
    # every user scores the mean item of their own type above the other type's
    assert (np.where(match, s, 0).sum(1) / match.sum(1)
            > np.where(~match, s, 0).sum(1) / (~match).sum(1)).all()
