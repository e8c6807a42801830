"""Hybrid encoder: the gate mixes text and ID representations as g*t + (1-g)*e."""

from __future__ import annotations

import torch

from causalrec.encoders import HybridEncoder


def _hybrid(path, data, **kw):
    return HybridEncoder(data, dim=6, text={"model": str(path), "device": "cpu"}, **kw)


def test_gate_limits_and_formula(tiny_bert_dir, toy_data):
    idx = torch.tensor([0, 5, 2])
    enc = _hybrid(tiny_bert_dir, toy_data)
    t, e = enc.text.encode_items(idx), enc.ids.encode_items(idx)
    # zero-initialised gate: an even mix
    torch.testing.assert_close(enc.encode_items(idx), 0.5 * t + 0.5 * e)
    # a hand-set gate: g = sigmoid(W [t; e] + b)
    with torch.no_grad():
        enc.item_gate.weight.normal_()
        enc.item_gate.bias.normal_()
    g = torch.sigmoid(torch.cat([t, e], -1) @ enc.item_gate.weight.T + enc.item_gate.bias)
    torch.testing.assert_close(enc.encode_items(idx), g * t + (1 - g) * e)
    torch.testing.assert_close(enc.gate_values("item", idx), g)
    torch.testing.assert_close(enc.all_items()[idx], enc.encode_items(idx))
    text_only = _hybrid(tiny_bert_dir, toy_data, gate_bias=30.0)
    users = torch.tensor([0, 3])
    torch.testing.assert_close(text_only.encode_users(users), text_only.text.encode_users(users))
    id_only = _hybrid(tiny_bert_dir, toy_data, gate_bias=-30.0)
    torch.testing.assert_close(id_only.encode_items(idx), id_only.ids.encode_items(idx))


def test_gate_learns_to_prefer_the_informative_source(tiny_bert_dir, toy_data):
    """Targets equal the ID embeddings: training must push the gate toward the ID side."""
    torch.manual_seed(0)
    enc = _hybrid(tiny_bert_dir, toy_data)
    idx = torch.arange(8)
    target = enc.ids.encode_items(idx).detach()
    opt = torch.optim.Adam(enc.item_gate.parameters(), lr=0.1)
    for _ in range(50):
        loss = (enc.encode_items(idx) - target).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert enc.gate_values("item", idx).mean() < 0.1
