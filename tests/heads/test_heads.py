"""Every head: its contract (full_scores agrees with score), a training loop that lowers the
loss, and the losses against hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from causalrec.data import InteractionData
from causalrec.encoders.id import IDEncoder
from causalrec.heads import (
    BPRHead,
    CausEHead,
    DICEHead,
    DRJLHead,
    IPSHead,
    MACRHead,
    PDAHead,
    PointwiseHead,
    PopularityPropensity,
    RelMFHead,
    SNIPSHead,
    TARNetHead,
    TLearnerHead,
)
from causalrec.heads.build import build_head

N_USERS, N_ITEMS = 30, 25


def _data(seed=0, n=400):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, N_USERS, n)
    items = np.minimum(rng.zipf(1.6, n) - 1, N_ITEMS - 1)
    expo = (rng.random(n) < 0.5).astype(np.float32)
    label = (rng.random(n) < 0.2 + 0.4 * expo).astype(np.float32)
    df = pd.DataFrame({"user": users.astype(np.int64), "item": items.astype(np.int64),
                       "label": label, "exposure": expo,
                       "propensity": rng.uniform(0.05, 1.0, n),
                       "policy": np.where(rng.random(n) < 0.2, "uniform", "logging")})
    return InteractionData(df, N_USERS, N_ITEMS, name="toy")


def _batch(data, pairwise=False, n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    df = data.interactions
    rows = torch.randint(0, len(df), (n,), generator=g).numpy()
    b = {"user": torch.from_numpy(df["user"].to_numpy()[rows]),
         "item": torch.from_numpy(df["item"].to_numpy()[rows])}
    if pairwise:
        b["neg_item"] = torch.randint(0, N_ITEMS, (n,), generator=g)
    else:
        for c in ("label", "exposure", "propensity"):
            b[c] = torch.from_numpy(df[c].to_numpy()[rows]).float()
    return b


def _make(cls, data, **kw):
    torch.manual_seed(0)
    enc = IDEncoder(data, dim=8)
    prop = kw.pop("propensity", None)
    return cls(enc, data=data, propensity=prop, **kw)


HEADS = [
    (PointwiseHead, {}, False),
    (BPRHead, {"weight_decay": 1e-4}, True),
    (IPSHead, {"propensity": "pop"}, False),
    (SNIPSHead, {}, False),  # logged propensities from the batch
    (DRJLHead, {"propensity": "pop"}, False),
    (CausEHead, {"value": "uniform"}, False),
    (DICEHead, {"margin": 1.0}, True),
    (MACRHead, {"hidden": [8, 1]}, False),
    (PDAHead, {"propensity": "pop", "inference": "pda"}, True),
    (RelMFHead, {"propensity": "pop"}, True),
    (TLearnerHead, {"hidden": [8]}, False),
    (TARNetHead, {"hidden": [8], "head_hidden": 4}, False),
]


@pytest.mark.parametrize("cls,kw,pairwise", HEADS, ids=[h[0].__name__ for h in HEADS])
def test_head_contract_and_training(cls, kw, pairwise):
    data = _data()
    kw = dict(kw)
    if kw.get("propensity") == "pop":
        kw["propensity"] = PopularityPropensity(eta=0.5).fit(data)
    head = _make(cls, data, **kw)
    users = torch.tensor([0, 3, 7])
    full = head.full_scores(users)
    assert full.shape == (3, N_ITEMS)
    items = torch.arange(N_ITEMS)
    for r, u in enumerate(users):
        torch.testing.assert_close(head.score(u.repeat(N_ITEMS), items), full[r],
                                   rtol=1e-5, atol=1e-5)
    opt = torch.optim.Adam(head.parameters(), lr=0.02)
    batch = _batch(data, pairwise)
    torch.manual_seed(1)
    first = head.loss(batch, head(batch)).item()
    for _ in range(15):
        opt.zero_grad()
        torch.manual_seed(1)  # DR-JL's unobserved draws: the same each step
        loss = head.loss(batch, head(batch))
        assert torch.isfinite(loss)
        loss.backward()
        opt.step()
    torch.manual_seed(1)
    assert head.loss(batch, head(batch)).item() < first


def test_pairwise_heads_refuse_pointwise_batches():
    data = _data()
    for cls in (BPRHead, DICEHead):
        head = _make(cls, data)
        with pytest.raises(KeyError, match="sampling=pairwise"):
            head(_batch(data, pairwise=False))


def test_ips_and_snips_losses_by_hand():
    data = _data()
    head = _make(IPSHead, data, clip=0.2)
    b = _batch(data, n=16)
    out = head(b)
    s = out["score"]
    w = 1 / b["propensity"].clamp(min=0.2)
    per = F.binary_cross_entropy_with_logits(s, b["label"], reduction="none")
    assert head.loss(b, out).item() == pytest.approx((w * per).mean().item(), rel=1e-6)
    sn = _make(SNIPSHead, data, clip=0.2)
    out = sn(b)
    per = F.binary_cross_entropy_with_logits(out["score"], b["label"], reduction="none")
    assert sn.loss(b, out).item() == pytest.approx(((w * per).sum() / w.sum()).item(), rel=1e-6)


def test_ips_requires_a_propensity_source():
    data = _data()
    head = _make(IPSHead, data)
    with pytest.raises(ValueError, match="needs propensities"):
        head(_batch(data, pairwise=True))


def test_drjl_loss_by_hand():
    data = _data()
    head = _make(DRJLHead, data, clip=0.1, observed_fraction=0.25)
    b = _batch(data, n=12)
    torch.manual_seed(5)
    out = head(b)
    torch.manual_seed(5)
    n = len(b["user"])
    ru = torch.randint(0, N_USERS, (n,))
    ri = torch.randint(0, N_ITEMS, (n,))
    bce = lambda s, y: F.binary_cross_entropy_with_logits(s, y, reduction="none")  # noqa: E731
    s = head.score(b["user"], b["item"])
    q = torch.sigmoid(head.imputed(b["user"], b["item"]))
    p = b["propensity"].clamp(min=0.1)
    e, e_hat = bce(s, b["label"]), bce(s, q)
    e_d = bce(head.score(ru, ri), torch.sigmoid(head.imputed(ru, ri)))
    pred = e_d.mean() + 0.25 * ((e - e_hat) / p).mean()
    imp = 0.25 * ((e - e_hat) ** 2 / p).mean()
    assert head.loss(b, out).item() == pytest.approx((pred + imp).item(), rel=1e-5)


def test_drjl_correction_vanishes_when_imputation_is_exact():
    """With pseudo-labels equal to the true labels, the observed correction term is zero and
    the DR estimate is the true loss averaged over the uniformly drawn pairs."""
    rng = np.random.default_rng(0)
    y_all = torch.from_numpy((rng.random((N_USERS, N_ITEMS)) < 0.3).astype(np.float32))
    torch.manual_seed(0)
    head = DRJLHead(IDEncoder(_data(), dim=4), data=_data(), observed_fraction=0.4,
                    imputation_weight=0.0)
    head.imputed = lambda u, i: (y_all[u, i] * 2 - 1) * 30  # type: ignore[method-assign]
    b = _batch(_data(), n=50)
    b["label"] = y_all[b["user"], b["item"]]
    torch.manual_seed(9)
    out = head(b)
    torch.manual_seed(9)
    ru = torch.randint(0, N_USERS, (50,))
    ri = torch.randint(0, N_ITEMS, (50,))
    want = F.binary_cross_entropy_with_logits(head.score(ru, ri), y_all[ru, ri])
    assert head.loss(b, out).item() == pytest.approx(want.item(), rel=1e-5)


def test_pda_inference_modes():
    data = _data()
    prop = PopularityPropensity(eta=0.3).fit(data)
    pd_head = _make(PDAHead, data, propensity=prop, inference="pd")
    pda_head = _make(PDAHead, data, propensity=prop, inference="pda")
    pda_head.load_state_dict(pd_head.state_dict())
    users = torch.tensor([1, 2])
    m = prop(torch.zeros(N_ITEMS, dtype=torch.long), torch.arange(N_ITEMS))
    torch.testing.assert_close(pda_head.full_scores(users), pd_head.full_scores(users) * m)
    raw = pd_head.encoder.encode_users(users) @ pd_head.encoder.all_items().T
    torch.testing.assert_close(pd_head.full_scores(users), F.elu(raw) + 1)


def test_macr_counterfactual_inference():
    data = _data()
    head = _make(MACRHead, data, c=2.0, hidden=[4, 1])
    users = torch.tensor([0, 5])
    u, v = head.encoder.encode_users(users), head.encoder.all_items()
    expect = (u @ v.T - 2.0) * torch.sigmoid(head.item_module(v)).T * \
        torch.sigmoid(head.user_module(u))
    torch.testing.assert_close(head.full_scores(users), expect)


def test_cause_splits_treatment_rows():
    data = _data()
    head = _make(CausEHead, data, value="uniform")
    df = data.interactions
    b = {"user": torch.tensor(df["user"].to_numpy()),
         "item": torch.tensor(df["item"].to_numpy()),
         "label": torch.tensor(df["label"].to_numpy())}
    got = head(b)["treated"].numpy()
    uni = set(zip(df["user"][df["policy"] == "uniform"], df["item"][df["policy"] == "uniform"]))
    want = np.array([(u, i) in uni for u, i in zip(df["user"], df["item"])])
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="no randomized rows"):
        _make(CausEHead, data, value="nope")


def test_dice_popularity_sets():
    data = _data()
    head = _make(DICEHead, data, margin=2.0)
    pos = data.interactions[data.interactions["label"] > 0]
    pop = torch.from_numpy(np.bincount(pos["item"], minlength=N_ITEMS)).float()
    b = _batch(data, pairwise=True)
    out = head(b)
    pi, pj = pop[b["item"]], pop[b["neg_item"]]
    torch.testing.assert_close(out["o1"], (pj > pi + 2).float())
    torch.testing.assert_close(out["o2"], (pj < pi - 2).float())


def test_uplift_heads_effect_and_propensity_output():
    data = _data()
    for cls in (TLearnerHead, TARNetHead):
        head = _make(cls, data, hidden=[8])
        u, i = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])
        torch.testing.assert_close(head.effect(u, i),
                                   head.outcome(u, i, 1) - head.outcome(u, i, 0))
        with pytest.raises(KeyError, match="exposure"):
            head({"user": u, "item": i, "label": torch.ones(3)})
    tar = _make(TARNetHead, data, hidden=[8])
    p = tar.exposure_probability(torch.tensor([0]), torch.tensor([0]))
    assert 0 < p.item() < 1


def test_build_head_fits_propensity_once():
    from omegaconf import OmegaConf

    data = _data()
    enc = IDEncoder(data, dim=8)
    cfg = OmegaConf.create({"_target_": "causalrec.heads.IPSHead", "clip": 0.05,
                            "propensity": {"_target_": "causalrec.heads.PopularityPropensity",
                                           "eta": 0.5}})
    head = build_head(cfg, enc, data)
    assert isinstance(head, IPSHead) and head.propensity.fitted
    assert head.encoder is enc


def test_drjl_default_observed_fraction_is_horvitz_thompson():
    data = _data()
    head = _make(DRJLHead, data, clip=0.1)
    p = np.maximum(data.interactions["propensity"].to_numpy(), 0.1)
    assert head.observed_fraction == pytest.approx(len(p) / (1 / p).sum())
    prop = PopularityPropensity(eta=0.5).fit(data)
    head = _make(DRJLHead, data, clip=0.1, propensity=prop)
    q = prop(torch.as_tensor(data.interactions["user"].to_numpy()),
             torch.as_tensor(data.interactions["item"].to_numpy())).clamp(min=0.1).double()
    assert head.observed_fraction == pytest.approx(float(len(q) / (1 / q).sum()))
