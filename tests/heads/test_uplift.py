"""Uplift heads (Sato et al.) and the causal ranking metrics, against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import InteractionData
from causalrec.encoders.id import IDEncoder
from causalrec.evaluation import causal_ranking_metrics
from causalrec.heads import CausalNeighborHead, DLCEHead, ULBPRHead, ULRMFHead
from causalrec.heads.uplift import resolve_alpha, uplift_classes


def _log(seed=0, n_users=30, n_items=12):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    prop = rng.uniform(0.2, 0.8, len(users))
    r = (rng.random(len(users)) < prop).astype(np.int8)
    y = (rng.random(len(users)) < 0.3).astype(np.int8)
    df = pd.DataFrame({"user": users, "item": items, "label": y, "exposure": r,
                       "propensity": prop})
    return InteractionData(df, n_users, n_items)


def _batch(data):
    df = data.interactions
    return {"user": torch.as_tensor(df["user"].to_numpy()),
            "item": torch.as_tensor(df["item"].to_numpy()),
            "label": torch.as_tensor(df["label"].to_numpy(np.float32)),
            "exposure": torch.as_tensor(df["exposure"].to_numpy(np.float32)),
            "propensity": torch.as_tensor(df["propensity"].to_numpy(np.float32))}


def test_cp_and_cdcg_against_hand_computed_values():
    class Fixed:
        def full_scores(self, users):
            return torch.tensor([[3.0, 1.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]])[users]

    tau = np.array([[0.5, -0.2, 0.1, 0.3], [0.0, 0.4, -0.1, 0.2]])
    m = causal_ranking_metrics(Fixed(), tau, ks=(2, 3))
    # user 0 ranks items 0, 2, 1; user 1 ranks 3, 2, 1
    cp2 = ((0.5 + 0.1) / 2 + (0.2 - 0.1) / 2) / 2
    cp3 = ((0.5 + 0.1 - 0.2) / 3 + (0.2 - 0.1 + 0.4) / 3) / 2
    d = [1.0, 1 / np.log2(3), 0.5]
    cdcg3 = ((0.5 * d[0] + 0.1 * d[1] - 0.2 * d[2]) + (0.2 * d[0] - 0.1 * d[1] + 0.4 * d[2])) / 2
    assert m["cp@2"] == pytest.approx(cp2, abs=1e-12)
    assert m["cp@3"] == pytest.approx(cp3, abs=1e-12)
    assert m["cdcg@3"] == pytest.approx(cdcg3, abs=1e-12)
    excl = np.zeros((2, 4), dtype=bool)
    excl[0, 0] = True  # user 0 without item 0: items 2, 1
    m = causal_ranking_metrics(Fixed(), tau, ks=(2,), exclude=excl)
    assert m["cp@2"] == pytest.approx(((0.1 - 0.2) / 2 + (0.2 - 0.1) / 2) / 2, abs=1e-12)
    with pytest.raises(ValueError, match="cut-offs"):
        causal_ranking_metrics(Fixed(), tau, ks=(5,))


def test_uplift_classes_partition_the_rows():
    r = torch.tensor([1, 1, 0, 0])
    y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    c = uplift_classes(r, y)
    assert [int(c[k].nonzero()) for k in ("TP", "TN", "CP", "CN")] == [0, 1, 2, 3]


def test_ulrmf_loss_is_the_bce_of_the_uplift_labels_with_cn_at_alpha():
    data = _log()
    torch.manual_seed(0)
    head = ULRMFHead(IDEncoder(data, dim=4), data, alpha=0.3)
    b = _batch(data)
    o = head(b)
    c = uplift_classes(b["exposure"], b["label"])
    # Sato et al.: a CN row is a positive with probability alpha -> its expected label
    target = torch.where(c["CN"], 0.3, (c["TP"]).float()).double()
    s = o["score"].detach().double()
    bce = -(target * torch.log(torch.sigmoid(s)) + (1 - target) * torch.log(1 - torch.sigmoid(s)))
    assert float(head.loss(b, o)) == pytest.approx(float(bce.mean()), rel=1e-5)
    assert set(target[c["TN"] | c["CP"]].tolist()) == {0.0}
    with pytest.raises(ValueError, match="head.alpha"):
        ULRMFHead(IDEncoder(data, dim=4), data, alpha=1.5)


def test_ulbpr_negatives_follow_the_class_weights():
    data = _log(1)
    df = data.interactions
    r, y = df.exposure > 0, df.label > 0
    hard = {(u, i) for u, i in zip(df[r != y].user, df[r != y].item)}
    cn = {(u, i) for u, i in zip(df[~r & ~y].user, df[~r & ~y].item)}
    n_hard = np.bincount(df[r != y].user, minlength=data.n_users)
    n_cn = np.bincount(df[~r & ~y].user, minlength=data.n_users)
    users = torch.as_tensor(np.flatnonzero(n_hard > 0)).repeat(400)
    # alpha = 1: a CN item is never a negative -> only TN / CP items are drawn
    head = ULBPRHead(IDEncoder(data, dim=4), data, alpha=1.0, seed=3)
    drawn = head._draw_negatives(users)
    assert all((int(u), int(j)) in hard for u, j in zip(users, drawn))
    # alpha = 0.5: each TN/CP item weighs 1, each CN item 0.5 -> the share of CN draws per
    # user is 0.5 n_cn / (n_hard + 0.5 n_cn)
    head = ULBPRHead(IDEncoder(data, dim=4), data, alpha=0.5, seed=3)
    drawn = head._draw_negatives(users)
    is_cn = np.array([(int(u), int(j)) in cn for u, j in zip(users, drawn)])
    assert all((int(u), int(j)) in cn | hard for u, j in zip(users, drawn))
    want = (0.5 * n_cn / (n_hard + 0.5 * n_cn))[users.numpy()].mean()
    assert is_cn.mean() == pytest.approx(want, abs=0.01)
    b = _batch(data)
    o = head(b)
    c = uplift_classes(b["exposure"], b["label"])
    assert len(o["diff"]) == int((c["TP"] | c["CN"]).sum())  # TP and CN rows are positives
    assert sorted(set(o["weight"].tolist())) == [0.5, 1.0]
    loss = head.loss(b, o)
    assert torch.isfinite(loss) and loss.requires_grad


def test_dlce_weights_and_direction():
    df = pd.DataFrame({"user": [0, 0, 0], "item": [0, 1, 2], "label": [1, 1, 0],
                       "exposure": [1, 0, 1], "propensity": [0.25, 0.25, 0.5]})
    data = InteractionData(df, 1, 3)
    torch.manual_seed(0)
    head = DLCEHead(IDEncoder(data, dim=4), data, clip=0.01, seed=0)
    b = _batch(data)
    o = head(b)  # weights: Y Z / P = 4 for the treated purchase, Y (1 - Z) / (1 - P) = 4/3
    assert o["w_pos"].tolist() == pytest.approx([4.0, 0.0, 0.0])
    assert o["w_neg"].tolist() == pytest.approx([0.0, 4 / 3, 0.0])
    capped = DLCEHead(IDEncoder(data, dim=4), data, clip=0.4)(b)  # max(P, chi) = 0.4
    assert capped["w_pos"].tolist() == pytest.approx([2.5, 0.0, 0.0])
    # the loss by hand: 4 log(1 + e^-d0) + 4/3 log(1 + e^d1), averaged over the rows
    d = o["diff"].detach().double()
    want = (4 * torch.log1p(torch.exp(-d[0])) + 4 / 3 * torch.log1p(torch.exp(d[1]))) / 3
    assert float(head.loss(b, o)) == pytest.approx(float(want), rel=1e-5)
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    for _ in range(100):
        opt.zero_grad()
        head.loss(b, head(b)).backward()
        opt.step()
    with torch.no_grad():
        s = head.full_scores(torch.tensor([0]))[0]
    assert s[0] > s[2] > s[1]  # the treated purchase first, the control purchase last


def test_causal_neighbor_scores_match_a_direct_computation():
    data = _log(2, n_users=8, n_items=9)
    head = CausalNeighborHead(IDEncoder(data, dim=2), data, k=3, clip=0.01, shrinkage=1.0)
    df = data.interactions
    y = np.zeros((8, 9))
    tau = np.zeros((8, 9))
    for row in df.itertuples():
        y[row.user, row.item] = row.label
        p = row.propensity
        tau[row.user, row.item] = row.label / p if row.exposure else -row.label / (1 - p)
    norms = np.sqrt((y ** 2).sum(1))
    sim = y @ y.T / (np.outer(norms, norms) + 1.0)
    np.fill_diagonal(sim, 0)
    checked = 0
    for u in range(8):
        order = np.argsort(-sim[u], kind="stable")
        nb = order[:3]
        # a tie at the k-th neighbour may be broken differently: compare when unambiguous
        if np.isclose(sim[u, order[2]], sim[u, order[3]]):
            continue
        checked += 1
        want = (sim[u, nb] @ tau[nb]) / np.abs(sim[u, nb]).sum()
        got = head.full_scores(torch.tensor([u]))[0].numpy()
        assert got == pytest.approx(want, abs=1e-5)
    assert checked >= 3
    assert head.trainable is False
    with pytest.raises(ValueError, match="k"):
        CausalNeighborHead(IDEncoder(data, dim=2), data, k=0)


def test_alpha_auto_orders_the_expected_labels_by_the_effect():
    df = _log(4).interactions.copy()
    df["exposure"] = (np.random.default_rng(5).random(len(df)) < 0.2).astype(np.int8)
    data = InteractionData(df, 30, 12)
    e = float((df["exposure"] > 0).mean())
    assert 0.1 < e < 0.3
    assert resolve_alpha("auto", _log(4)) == 1.0  # e > 1/2: capped
    alpha = resolve_alpha("auto", data)
    assert alpha == pytest.approx(e / (1 - e))
    assert ULRMFHead(IDEncoder(data, dim=2), data, alpha="auto").alpha == pytest.approx(alpha)
    # expected uplift-based label at the average assignment rate e: P(TP) + alpha P(CN)
    rng = np.random.default_rng(0)
    p0, p1 = rng.uniform(0, 0.6, 50), rng.uniform(0, 0.6, 50)
    label = e * p1 + alpha * (1 - e) * (1 - p0)
    assert np.array_equal(np.argsort(label), np.argsort(p1 - p0))
    assert label == pytest.approx(e * (p1 - p0) + e)
    with pytest.raises(ValueError, match="'auto'"):
        resolve_alpha("often", data)
