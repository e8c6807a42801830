"""TextIntentEncoder: frozen (cached) and fine-tuned modes, user modes, cache integration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from causalrec.encoders import TextIntentEncoder
from causalrec.encoders.transformer import TextModel

from .conftest import ITEM_TEXTS, USER_TEXTS


def _enc(path, data, **kw):
    kw.setdefault("device", "cpu")
    return TextIntentEncoder(data, model=str(path), **kw)


def test_missing_text_names_the_dataset(tiny_bert_dir, toy_data):
    data = dataclasses.replace(toy_data, item_text=None, name="ml-100k")
    with pytest.raises(ValueError, match=r"dataset 'ml-100k'.*no item_text"):
        _enc(tiny_bert_dir, data)
    data = dataclasses.replace(toy_data, user_text=None)
    with pytest.raises(ValueError, match=r"'toy'.*no user_text.*users: id"):
        _enc(tiny_bert_dir, data)
    _enc(tiny_bert_dir, data, users="id")  # ID users need no user text


def test_frozen_mode_projects_cached_embeddings(tiny_bert_dir, toy_data, tmp_path):
    enc = _enc(tiny_bert_dir, toy_data, dim=5, cache_dir=tmp_path, center=False)
    ref_items = TextModel(str(tiny_bert_dir), device="cpu").embed(ITEM_TEXTS)
    np.testing.assert_allclose(enc.item_text_emb.numpy(), ref_items, atol=1e-6)
    centered = _enc(tiny_bert_dir, toy_data, dim=5, cache_dir=tmp_path)  # center: true
    np.testing.assert_allclose(centered.item_text_emb.numpy(), ref_items - ref_items.mean(0),
                               atol=1e-6)
    ref_users = TextModel(str(tiny_bert_dir), device="cpu").embed(USER_TEXTS)
    np.testing.assert_allclose(centered.user_text_emb.numpy(), ref_users - ref_users.mean(0),
                               atol=1e-6)
    idx = torch.tensor([3, 0, 3])
    expected = torch.from_numpy(ref_items[[3, 0, 3]]) @ enc.proj.weight.T + enc.proj.bias
    torch.testing.assert_close(enc.encode_items(idx), expected)
    assert enc.all_items().shape == (8, 5) and enc.encode_users(torch.tensor([1])).shape == (1, 5)
    # only the projection trains; the language model is not part of the module
    trainable = {n for n, p in enc.named_parameters() if p.requires_grad}
    assert trainable == {"proj.weight", "proj.bias"}
    assert enc.cache_stats["item texts"].encoded == 8
    # a second encoder with the same settings is a pure cache hit
    again = _enc(tiny_bert_dir, toy_data, dim=5, cache_dir=tmp_path, center=False)
    assert again.cache_stats["item texts"].encoded == 0
    assert again.cache_stats["user texts"].hits == len(USER_TEXTS)
    assert again.cache.namespace == enc.cache.namespace


def test_cache_key_follows_settings(tiny_bert_dir, toy_data, tmp_path):
    base = _enc(tiny_bert_dir, toy_data, cache_dir=tmp_path).cache.namespace
    for change in ({"pooling": "cls"}, {"max_length": 8}, {"template_version": "v2"}):
        enc = _enc(tiny_bert_dir, toy_data, cache_dir=tmp_path, **change)
        assert enc.cache.namespace != base, change
        assert enc.cache_stats["item texts"].encoded == 8
    versioned = dataclasses.replace(toy_data, meta={"text_version": "v2"})
    assert _enc(tiny_bert_dir, versioned, cache_dir=tmp_path).cache_key["template_version"] == "v2"
    both = dataclasses.replace(toy_data, meta={"text_version": "v2", "text_template_version": "t3"})
    assert _enc(tiny_bert_dir, both, cache_dir=tmp_path).cache_key["template_version"] == "t3"


def test_history_users_average_their_items(tiny_bert_dir, toy_data):
    enc = _enc(tiny_bert_dir, toy_data, dim=4, users="history")
    items = enc.all_items()
    users = enc.encode_users(torch.tensor([0, 1, 2, 3]))
    torch.testing.assert_close(users[0], items[[0, 3]].mean(0))  # user 0 saw items 0 and 3
    torch.testing.assert_close(users[2], items[2])
    torch.testing.assert_close(users[3], items[7])


def test_fine_tuned_mode_trains_top_layers(tiny_gpt2_dir, toy_data):
    torch.manual_seed(0)
    enc = _enc(tiny_gpt2_dir, toy_data, dim=4, pooling="last", padding_side="left",
               trainable_layers=1)
    lm = enc.text_model.model
    before = {n: p.detach().clone() for n, p in lm.named_parameters()}
    opt = torch.optim.SGD([p for p in enc.parameters() if p.requires_grad], lr=0.5)
    enc.train()
    users, items = torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2])
    loss = -(enc.encode_users(users) * enc.encode_items(items)).sum(-1).sigmoid().log().mean()
    loss.backward()
    opt.step()
    changed = {n for n, p in lm.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all(n.startswith(("h.1.", "ln_f.")) for n in changed)
    assert any(n.startswith("h.1.") for n in changed)
    # evaluation: all items are encoded once and agree with per-item encoding
    enc.eval()
    with torch.no_grad():
        all_items = enc.all_items()
        torch.testing.assert_close(enc.encode_items(torch.tensor([5, 2])), all_items[[5, 2]])
        enc._eval_items = None
        torch.testing.assert_close(enc.encode_items(torch.tensor([5, 2])), all_items[[5, 2]],
                                   atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", [{"users": "text"}, {"users": "history"}, {"users": "id"},
                                  {"users": "text", "trainable_layers": 1}])
def test_saved_state_rebuilds_the_encoder_without_its_texts(tiny_bert_dir, toy_data, mode):
    """Text vectors, centring means, token ids and histories are saved state: a shell built
    without any text (restoring_state) and loaded from the state_dict encodes identically,
    and a new user's text is centred with the saved training mean."""
    from causalrec.encoders.base import adopt_buffer_shapes, restoring_state

    torch.manual_seed(0)
    enc = _enc(tiny_bert_dir, toy_data, dim=5, **mode).eval()
    state = enc.state_dict()
    if "trainable_layers" not in mode:
        assert {"item_text_emb", "item_center"} <= set(state)
        ref = TextModel(str(tiny_bert_dir), device="cpu").embed(ITEM_TEXTS)
        np.testing.assert_allclose(state["item_center"].numpy(), ref.mean(0), atol=1e-6)
    bare = dataclasses.replace(toy_data, item_text=None, user_text=None,
                               interactions=toy_data.interactions.iloc[:0], allow_empty=True)
    with restoring_state():
        shell = _enc(tiny_bert_dir, bare, dim=5, **mode)
    adopt_buffer_shapes(shell, state)
    shell.load_state_dict(state)
    shell.eval()
    users = torch.arange(4)
    with torch.no_grad():
        assert torch.equal(shell.all_items(), enc.all_items())
        assert torch.equal(shell.encode_users(users), enc.encode_users(users))
        if mode["users"] == "text":
            # a user's own text, as a new text, lands on that user's representation
            again = shell.users_from_text([USER_TEXTS[2]])
            cos = torch.nn.functional.cosine_similarity(again, enc.encode_users(users[2:3]))
            assert float(cos) >= 0.9999
    with pytest.raises(ValueError, match=r"texts \[0\] are empty"):
        shell.text_vectors([""], "item")
