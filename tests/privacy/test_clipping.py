"""Per-unit clipping against a brute-force oracle: one autograd pass per unit, full
gradients, clipped and summed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from causalrec.heads.bpr import BPRHead
from causalrec.heads.pointwise import PointwiseHead
from causalrec.privacy.clipping import GroupClipper, trainable_layers


class _FeatureEncoder(nn.Module):
    """Users: an ID table; items: a linear projection of fixed (public) item features."""

    def __init__(self, n_users, n_items, d_in, dim):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self.n_users, self.n_items, self.dim = n_users, n_items, dim
        self.user_emb = nn.Embedding(n_users, dim)
        self.register_buffer("feat", torch.randn(n_items, d_in, generator=g))
        self.proj = nn.Linear(d_in, dim)

    def encode_users(self, idx):
        return self.user_emb(idx)

    def encode_items(self, idx):
        return self.proj(self.feat[idx])


class _IDs(nn.Module):
    def __init__(self, n_users, n_items, dim):
        super().__init__()
        self.n_users, self.n_items, self.dim = n_users, n_items, dim
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_emb = nn.Embedding(n_items, dim)

    def encode_users(self, idx):
        return self.user_emb(idx)

    def encode_items(self, idx):
        return self.item_emb(idx)


def _batch(n_rows=40, n_users=7, n_items=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    users = torch.randint(0, n_users, (n_rows,), generator=g)
    return {"user": users, "item": torch.randint(0, n_items, (n_rows,), generator=g),
            "neg_item": torch.randint(0, n_items, (n_rows,), generator=g)}


def _oracle(head, batch, groups, clip, local=()):
    """sum_g clip(grad of the sum of group g's row losses), from one backward per group."""
    params = [(n, p) for n, p in head.named_parameters()
              if not any(n.startswith(f"encoder.{loc}") for loc in local)]
    total = [torch.zeros_like(p) for _, p in params]
    for g in groups.unique().tolist():
        if g < 0:
            continue
        rows = groups == g
        sub = {k: v[rows] for k, v in batch.items()}
        loss = head.loss(sub, head(sub)) * int(rows.sum())
        grads = torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)
        grads = [torch.zeros_like(p) if gr is None else gr for gr, (_, p) in zip(grads, params)]
        norm = torch.sqrt(sum((gr.double() ** 2).sum() for gr in grads))
        factor = min(1.0, clip / (float(norm) + 1e-6))
        total = [t + factor * gr for t, gr in zip(total, grads)]
    return dict(zip([p for _, p in params], total))


def _clipped(head, batch, groups, clip, local=()):
    layers = trainable_layers(head, "test")
    clipper = GroupClipper(layers, clip, local=local)
    head.zero_grad()
    clipper.begin(groups)
    loss = head.loss(batch, head(batch))
    loss.backward()
    out = clipper.finish(scale=float(len(groups)), check_against_autograd=True)
    clipper.remove()
    return out


@pytest.mark.parametrize("unit", ["user", "interaction"])
@pytest.mark.parametrize("encoder", ["ids", "features"])
@pytest.mark.parametrize("head_cls", [BPRHead, PointwiseHead])
def test_clipped_sum_equals_the_per_unit_oracle(unit, encoder, head_cls):
    torch.manual_seed(0)
    # d_in * dim = 12 < (rows per user)^2: user units take the per-unit-gradient path;
    # interaction units (2-4 rows each) take the Gram (ghost norm) path
    enc = _IDs(7, 12, 4) if encoder == "ids" else _FeatureEncoder(7, 12, 3, 4)
    head = head_cls(enc, weight_decay=0.1)
    batch = _batch()
    groups = batch["user"].clone() if unit == "user" else torch.arange(len(batch["user"]))
    groups[5] = -1  # a placeholder row contributes nothing
    clip = 0.5
    got = _clipped(head, batch, groups, clip)
    want = _oracle(head, batch, groups, clip)
    assert set(got) == set(want)
    for p, w in want.items():
        torch.testing.assert_close(got[p], w, rtol=1e-4, atol=1e-6)
    # the bound binds: some unit was clipped, so the test distinguishes clipped from raw
    raw = _oracle(head, batch, groups, 1e9)
    assert any(not torch.allclose(raw[p], want[p]) for p in want)


def test_local_user_table_is_neither_clipped_nor_returned():
    torch.manual_seed(0)
    head = BPRHead(_IDs(7, 12, 4))
    batch = _batch()
    groups = batch["user"].clone()
    got = _clipped(head, batch, groups, 0.3, local=("encoder.user_emb",))
    assert head.encoder.user_emb.weight not in got
    want = _oracle(head, batch, groups, 0.3, local=("user_emb",))
    torch.testing.assert_close(got[head.encoder.item_emb.weight],
                               want[head.encoder.item_emb.weight], rtol=1e-4, atol=1e-6)


def test_only_touched_rows_receive_gradient():
    head = BPRHead(_IDs(7, 12, 4))
    batch = {"user": torch.tensor([0, 0, 3]), "item": torch.tensor([1, 2, 2]),
             "neg_item": torch.tensor([5, 6, 5])}
    got = _clipped(head, batch, batch["user"].clone(), 1.0)
    rows = got[head.encoder.item_emb.weight].abs().sum(1).nonzero().flatten().tolist()
    assert rows == [1, 2, 5, 6]


def test_unsupported_layer_is_named():
    model = nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3))
    with pytest.raises(ValueError, match=r"'1' \(LayerNorm\).*encoder._target_=X"):
        trainable_layers(model, "encoder._target_=X")


def test_parameter_used_outside_its_layer_is_refused():
    class Sneaky(_IDs):
        def encode_items(self, idx):  # reads the table directly: no hook sees it
            return self.item_emb.weight[idx]

    head = BPRHead(Sneaky(7, 12, 4))
    batch = _batch()
    with pytest.raises(ValueError, match="outside its layer's forward call"):
        _clipped(head, batch, batch["user"].clone(), 1.0)
