"""UniSRec-style sequential text encoder: adaptor by hand, text-only items, training, restore."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import InteractionData
from causalrec.encoders import TextModel, TextSequenceEncoder, WhiteningMoE
from causalrec.encoders.base import adopt_buffer_shapes, restoring_state

from .conftest import ITEM_TEXTS


def _data():
    inter = pd.DataFrame({
        "user": np.array([0, 0, 0, 1, 1, 2, 0, 3, 3], dtype=np.int64),
        "item": np.array([5, 1, 2, 3, 4, 0, 6, 7, 0], dtype=np.int64),
        "timestamp": np.array([30.0, 10, 20, 5, 1, 7, 40, 3, 4]),
    })
    return InteractionData(inter, n_users=4, n_items=8, item_text=list(ITEM_TEXTS), name="seq",
                           meta={})


def _enc(tiny_bert_dir, data, **kw):
    text = {"model": str(tiny_bert_dir), "device": "cpu", "progress": False,
            **kw.pop("text", {})}
    return TextSequenceEncoder(data, dim=8, max_len=4, layers=1, heads=2, text=text, **kw)


def test_whitening_moe_by_hand():
    torch.manual_seed(0)
    moe = WhiteningMoE(text_dim=5, dim=3, experts=2, dropout=0.0)
    with torch.no_grad():
        moe.bias.normal_()
        moe.gate.weight.normal_()
    x = torch.randn(4, 5)
    g = torch.softmax(x @ moe.gate.weight.T, -1)
    want = sum(g[:, k:k + 1] * ((x - moe.bias[k]) @ moe.weight[k]) for k in range(2))
    torch.testing.assert_close(moe(x), want)
    with pytest.raises(ValueError, match="experts"):
        WhiteningMoE(5, 3, experts=0)


def test_items_come_from_their_text_through_the_adaptor(tiny_bert_dir, tmp_path):
    torch.manual_seed(0)
    data = _data()
    enc = _enc(tiny_bert_dir, data, text={"cache_dir": tmp_path, "center": False},
               adaptor_dropout=0.0).eval()
    ref = torch.from_numpy(TextModel(str(tiny_bert_dir), device="cpu").embed(ITEM_TEXTS))
    torch.testing.assert_close(enc.item_emb.text_emb, ref)
    torch.testing.assert_close(enc.all_items(), enc.item_emb.adaptor(ref))
    torch.testing.assert_close(enc.encode_items(torch.tensor([2, 7])), enc.all_items()[[2, 7]])
    pad = enc.item_emb(torch.tensor([[8, 3]]))
    torch.testing.assert_close(pad[0, 0], torch.zeros(8))  # the padding index is zero
    # two items with the same text get the same vector: nothing item-specific is learned
    same = dataclasses.replace(data, item_text=[ITEM_TEXTS[0]] * 2 + list(ITEM_TEXTS[2:]))
    enc2 = _enc(tiny_bert_dir, same, text={"cache_dir": tmp_path}).eval()
    torch.testing.assert_close(enc2.all_items()[0], enc2.all_items()[1])
    ids = _enc(tiny_bert_dir, same, text={"cache_dir": tmp_path}, item_ids=True).eval()
    assert not torch.allclose(ids.all_items()[0], ids.all_items()[1])
    users = enc.encode_users(torch.arange(4))
    torch.testing.assert_close(users[0], enc.forward_sequence(enc.sequences[:1])[0, -1])


def test_trains_and_restores_from_its_state(tiny_bert_dir):
    torch.manual_seed(0)
    data = _data()
    enc = _enc(tiny_bert_dir, data, dropout=0.0, adaptor_dropout=0.0)
    opt = torch.optim.Adam(enc.parameters(), lr=0.05)
    users = torch.tensor([0, 0, 1, 2, 3])
    pos = torch.tensor([6, 5, 3, 0, 0])
    losses = []
    for _ in range(60):  # sampled softmax over all items (every item's vector is trained)
        opt.zero_grad()
        logits = enc.encode_users(users) @ enc.all_items().T
        loss = torch.nn.functional.cross_entropy(logits, pos)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    enc.eval()
    state = enc.state_dict()
    assert "item_emb.text_emb" in state and "sequences" in state
    with restoring_state():
        shell = _enc(tiny_bert_dir, dataclasses.replace(data, item_text=None),
                     dropout=0.0, adaptor_dropout=0.0)
    adopt_buffer_shapes(shell, state)
    shell.load_state_dict(state)
    shell.eval()
    torch.testing.assert_close(shell.encode_users(torch.arange(4)), enc.encode_users(torch.arange(4)))
    torch.testing.assert_close(shell.all_items(), enc.all_items())


def test_unisrec_config_instantiates(tiny_bert_dir, tmp_path):
    from causalrec.encoders import build_encoder
    from causalrec.experiment.api import compose

    cfg = compose(["encoder=unisrec", f"encoder.text.model={tiny_bert_dir}",
                   "encoder.text.device=cpu", f"paths.data_dir={tmp_path}", "encoder.dim=8"])
    enc = build_encoder(cfg.encoder, _data())
    assert isinstance(enc, TextSequenceEncoder) and enc.all_items().shape == (8, 8)
    assert list(tmp_path.glob("embeddings/*/manifest.json")), "item texts went through the cache"
