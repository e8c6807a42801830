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
from causalrec.heads.uplift import uplift_classes


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


def test_ulrmf_loss_is_the_weighted_bce_of_the_uplift_labels():
    data = _log()
    torch.manual_seed(0)
    head = ULRMFHead(IDEncoder(data, dim=4), data, cn_weight=0.3)
    b = _batch(data)
    o = head(b)
    c = uplift_classes(b["exposure"], b["label"])
    target = (c["TP"] | c["CN"]).float()
    w = torch.where(c["CN"], 0.3, 1.0)
    s = o["score"].detach().double()
    bce = -(target * torch.log(torch.sigmoid(s)) + (1 - target) * torch.log(1 - torch.sigmoid(s)))
    assert float(head.loss(b, o)) == pytest.approx(float((w * bce).sum() / w.sum()), rel=1e-5)


def test_ulbpr_negatives_are_the_users_tn_or_cp_items():
    data = _log(1)
    head = ULBPRHead(IDEncoder(data, dim=4), data, seed=3)
    df = data.interactions
    neg = df[(df.exposure > 0) != (df.label > 0)]
    allowed = {(u, i) for u, i in zip(neg.user, neg.item)}
    users = torch.as_tensor(neg["user"].unique())
    drawn = head._draw_negatives(users.repeat(20))
    assert all((int(u), int(j)) in allowed for u, j in zip(users.repeat(20), drawn))
    b = _batch(data)
    loss = head.loss(b, head(b))
    assert torch.isfinite(loss) and loss.requires_grad


def test_dlce_pushes_treated_purchases_up_and_control_purchases_down():
    df = pd.DataFrame({"user": [0, 0], "item": [0, 1], "label": [1, 1], "exposure": [1, 0],
                       "propensity": [0.25, 0.25]})
    data = InteractionData(df, 1, 2)
    torch.manual_seed(0)
    head = DLCEHead(IDEncoder(data, dim=4), data, clip=0.01)
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    b = _batch(data)
    for _ in range(50):
        opt.zero_grad()
        head.loss(b, head(b)).backward()
        opt.step()
    with torch.no_grad():
        s = head.full_scores(torch.tensor([0]))[0]
    assert s[0] > 0 > s[1]
    o = head(b)  # weights: Y R / P = 4 for the treated row, Y (1 - R) / (1 - P) = 4/3
    assert o["w_pos"].tolist() == pytest.approx([4.0, 0.0])
    assert o["w_neg"].tolist() == pytest.approx([0.0, 4 / 3])


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
