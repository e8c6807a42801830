"""Fine-tuning the top layers (LoRA or plain) with the frozen bottom's token states cached."""

from __future__ import annotations

import pytest
import torch

from causalrec.encoders import TextIntentEncoder, TextModel, cache_states
from causalrec.encoders.cache_states import state_key

from .conftest import ITEM_TEXTS


@pytest.fixture(scope="module")
def bert3_dirs(tmp_path_factory):
    """Two 3-layer BERTs sharing a tokenizer, with different random weights."""
    from transformers import BertConfig, BertModel

    from .conftest import _word_tokenizer

    specials = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]",
                "sep_token": "[SEP]"}
    out = []
    for seed in (0, 1):
        path = tmp_path_factory.mktemp(f"bert3_{seed}")
        tok, n = _word_tokenizer(specials, "bert")
        tok.save_pretrained(path)
        torch.manual_seed(seed)
        BertModel(BertConfig(vocab_size=n, hidden_size=32, num_hidden_layers=3,
                             num_attention_heads=2, intermediate_size=64,
                             max_position_embeddings=64)).save_pretrained(path)
        out.append(path)
    return out


def _enc(path, data, cache_dir=None, layers=1, lora=True, **kw):
    torch.manual_seed(0)
    return TextIntentEncoder(data, model=str(path), device="cpu", progress=False, dim=4,
                             users="text", trainable_layers=layers, cache_dir=cache_dir,
                             lora={"r": 2, "alpha": 4} if lora else None, **kw)


def _perturb_adapters(enc):
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for n, p in enc.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g))


def _loss(enc):
    users, items = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 5, 2, 4])
    return -(enc.encode_users(users) * enc.encode_items(items)).sum(-1).sigmoid().log().mean()


@pytest.mark.parametrize("model,lora", [("bert", True), ("bert", False), ("gpt2", True)])
def test_cached_top_layers_equal_the_full_forward(model, lora, bert3_dirs, tiny_gpt2_dir,
                                                  toy_data, tmp_path):
    path = bert3_dirs[0] if model == "bert" else tiny_gpt2_dir
    extra = {"pooling": "last", "padding_side": "left"} if model == "gpt2" else {}
    cached = _enc(path, toy_data, tmp_path / "emb", lora=lora, **extra)
    full = _enc(path, toy_data, None, lora=lora, **extra)
    assert cached.bottom is not None and full.bottom is None
    # computing the cached states leaves the model in the mode it was in
    assert cached.text_model.model.training == full.text_model.model.training
    if lora:
        _perturb_adapters(cached)
    full.load_state_dict(cached.state_dict())  # the token states are not saved state
    # evaluation: every item and user vector
    for enc in (cached, full):
        enc.eval()
    with torch.no_grad():
        torch.testing.assert_close(cached.all_items(), full.all_items(), atol=1e-5, rtol=1e-5)
        users = torch.arange(4)
        torch.testing.assert_close(cached.encode_users(users), full.encode_users(users),
                                   atol=1e-5, rtol=1e-5)
    # training mode (dropout in the top layers, the same random draws): loss and gradients
    grads = []
    for enc in (cached, full):
        enc.train()
        torch.manual_seed(7)
        loss = _loss(enc)
        loss.backward()
        grads.append((loss.detach(), {n: p.grad.clone() for n, p in enc.named_parameters()
                                      if p.grad is not None}))
    (l1, g1), (l2, g2) = grads
    torch.testing.assert_close(l1, l2, atol=1e-5, rtol=1e-5)
    assert g1.keys() == g2.keys() and any("layer" in n or "h." in n for n in g1)
    for n in g1:
        torch.testing.assert_close(g1[n], g2[n], atol=1e-5, rtol=1e-4, msg=n)


def test_a_second_run_reads_the_cache_and_skips_the_bottom(bert3_dirs, toy_data, tmp_path,
                                                           monkeypatch):
    calls = []
    original = cache_states.layer_states

    def counting(tm, ids, layer, progress=None):
        calls.append(len(ids))
        return original(tm, ids, layer, progress)

    monkeypatch.setattr(cache_states, "layer_states", counting)
    first = _enc(bert3_dirs[0], toy_data, tmp_path, layers=2)
    n_items, n_users = len(set(toy_data.item_text)), len(set(toy_data.user_text))
    assert calls == [n_items, n_users]
    assert first.cache_stats["item token states"].encoded == n_items
    second = _enc(bert3_dirs[0], toy_data, tmp_path, layers=2)
    assert calls == [n_items, n_users]  # nothing recomputed
    stats = second.cache_stats["item token states"]
    assert (stats.encoded, stats.hits) == (0, n_items)
    torch.testing.assert_close(second.bottom.item_states, first.bottom.item_states)
    # a training step runs layers 1 and 2 only (layer 0 is the cached bottom)
    ran = []
    layers = second.text_model.model.encoder.layer
    for i, layer in enumerate(layers):
        layer.register_forward_hook(lambda m, a, o, i=i: ran.append(i))
    second.train()
    _loss(second).backward()
    assert ran and set(ran) == {1, 2}
    # the full forward (no cache) runs all three
    ran.clear()
    second.bottom = None
    _loss(second).backward()
    assert set(ran) == {0, 1, 2}


def test_changing_n_or_the_model_changes_the_key(bert3_dirs, toy_data, tmp_path):
    n_items = len(set(toy_data.item_text))
    base = _enc(bert3_dirs[0], toy_data, tmp_path, layers=1)
    assert base.cache_stats["item token states"].encoded == n_items
    again = _enc(bert3_dirs[0], toy_data, tmp_path, layers=1, lora=False)  # same bottom
    assert again.cache_stats["item token states"].encoded == 0
    for other in (_enc(bert3_dirs[0], toy_data, tmp_path, layers=2),  # another N
                  _enc(bert3_dirs[1], toy_data, tmp_path, layers=1),  # another model
                  _enc(bert3_dirs[0], toy_data, tmp_path, layers=1, max_length=4)):
        assert other.cache_stats["item token states"].encoded == n_items
        assert other.bottom.cache.namespace != base.bottom.cache.namespace
    tm = TextModel(str(bert3_dirs[0]), device="cpu")
    tm.set_trainable_layers(1)
    assert state_key(tm) == base.bottom.cache.key and state_key(tm)["layer"] == 2


def test_frozen_bottom_runs_without_dropout_and_new_items_get_states(bert3_dirs, toy_data,
                                                                     tmp_path):
    enc = _enc(bert3_dirs[0], toy_data, tmp_path, layers=1)
    enc.train()
    model = enc.text_model.model
    assert not model.embeddings.training and not model.encoder.layer[1].training
    assert model.encoder.layer[2].training and model.training
    _perturb_adapters(enc)
    enc.extend_items(["jazz music night", "space war"])
    assert enc.bottom.item_ptr.numel() == len(ITEM_TEXTS) + 3
    enc.eval()
    full = _enc(bert3_dirs[0], toy_data, None, layers=1)
    full.extend_items(["jazz music night", "space war"])
    full.load_state_dict(enc.state_dict())
    full.eval()
    with torch.no_grad():
        torch.testing.assert_close(enc.all_items(), full.all_items(), atol=1e-5, rtol=1e-5)
        assert enc.all_items().shape[0] == len(ITEM_TEXTS) + 2


def test_every_layer_trained_needs_no_state_cache(bert3_dirs, toy_data, tmp_path):
    enc = _enc(bert3_dirs[0], toy_data, tmp_path, layers=3)
    assert enc.bottom is None and enc.text_model.frozen_layers == 0
