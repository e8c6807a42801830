"""Updates without retraining: fold-in of ID users, re-encoding of text users, recomputed
history and sequence users, new items from text."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from causalrec.recommend import Recommender

from .conftest import make_data, text_encoder, train_module


def _rank(rec, user: str, item: str) -> int:
    frame = rec.recommend([user], k=rec.n_items, exclude_seen=False)
    return int(frame.loc[frame["item"] == item, "rank"].iloc[0])


def test_id_fold_in_pulls_new_items_up_and_is_deterministic(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data, split=dm.split)
    before = rec.recommend(["u5"], k=10)
    unseen = rec.recommend(["u5"], k=rec.n_items - len(rec.seen_items([5])[0]))
    new = list(unseen["item"].iloc[-3:])  # three of the user's least liked items
    ranks = [_rank(rec, "u5", i) for i in new]
    rec.update("u5", new_items=new)
    after = [_rank(rec, "u5", i) for i in new]
    assert all(a < b for a, b in zip(after, ranks, strict=True)), (ranks, after)
    assert not set(new) & set(rec.recommend(["u5"], k=10)["item"])  # now seen
    assert rec.history(5)[-3:] == list(rec.item_index(new))
    other = Recommender.from_module(module, dm.train_data, split=dm.split)
    other.update("u5", new_items=new)
    assert torch.equal(other.user_vectors(["u5"]), rec.user_vectors(["u5"]))
    # other users are untouched; reset restores the trained user
    with torch.no_grad():
        trained = module.encoder.encode_users(torch.tensor([6]))
    assert torch.equal(rec.user_vectors(["u6"]), trained)
    rec.reset("u5")
    assert rec.recommend(["u5"], k=10).equals(before)


def test_removed_items_leave_the_seen_set_and_history(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data)
    first = rec.item_ids[rec.history(2)[0]]
    rec.update("u2", remove_items=[first])
    assert rec.item_index([first])[0] not in rec.seen_items([2])[0]
    assert rec.item_index([first])[0] not in rec.history(2)
    assert first in set(rec.recommend(["u2"], k=rec.n_items - len(rec.seen_items([2])[0]))["item"])


def test_text_users_are_re_encoded_from_new_text(text_model):
    _, dm, module = text_model
    rec = Recommender.from_module(module, dm.train_data, split=dm.split)
    rec.update("u3", new_text=dm.train_data.user_text[10])
    cos = torch.nn.functional.cosine_similarity(
        rec.user_vectors(["u3"]), rec.user_vectors(["u10"]))
    assert float(cos) >= 0.9999
    assert rec.recommend(["u3"], k=10, exclude_seen=False)["item"].tolist() == \
        rec.recommend(["u10"], k=10, exclude_seen=False)["item"].tolist()
    before = rec.user_vectors(["u4"])
    rec.update("u4", new_items=["i1"])  # a text user's representation is their text
    assert torch.equal(rec.user_vectors(["u4"]), before)
    assert 1 in rec.seen_items([4])[0]
    with pytest.raises(ValueError, match="text 0 is empty"):
        rec.update("u4", new_text=" ")


def test_history_users_are_the_mean_of_their_items(tiny_bert):
    _, dm, module = train_module(text_encoder(tiny_bert, users="history"), epochs=1)
    rec = Recommender.from_module(module, dm.train_data)
    with torch.no_grad():
        items = module.encoder.all_items()
        own = module.encoder.encode_users(torch.tensor([8]))[0]
    hist = rec.history(8)
    torch.testing.assert_close(items[hist].mean(0), own)  # the history the encoder used
    rec.update("u8", new_items=["i0", "i17"], remove_items=[rec.item_ids[hist[0]]])
    expected = items[hist[1:] + [i for i in (0, 17) if i not in hist]].mean(0)
    torch.testing.assert_close(rec.user_vectors(["u8"])[0], expected)


def test_sequence_users_are_recomputed_from_their_sequence():
    from causalrec.encoders import SequenceEncoder
    from causalrec.heads import BPRHead
    from causalrec.models import CausalRecModule

    data = make_data(n_users=20, n_items=30, per_user=8)
    torch.manual_seed(0)
    enc = SequenceEncoder(data, dim=8, max_len=5, layers=1)
    module = CausalRecModule(enc, BPRHead(enc, data)).eval()
    rec = Recommender.from_module(module, data)
    with torch.no_grad():
        own = enc.encode_users(torch.tensor([4]))[0]
        torch.testing.assert_close(enc.users_from_items([rec.history(4)])[0], own)
        seq = torch.as_tensor((rec.history(4) + [29])[-5:]).unsqueeze(0)
        expected = enc.forward_sequence(seq)[0, -1]
    rec.update("u4", new_items=["i29"])
    torch.testing.assert_close(rec.user_vectors(["u4"])[0], expected)


def test_new_items_from_text(text_model, id_model):
    _, dm, module = text_model
    rec = Recommender.from_module(module, dm.train_data)
    n = rec.n_items
    text4 = dm.train_data.item_text[4]
    rec.add_items([text4, "jazz music night"], ids=["new-a", "new-b"])
    assert rec.n_items == n + 2 and list(rec.item_ids[-2:]) == ["new-a", "new-b"]
    vec = rec.item_vectors()
    torch.testing.assert_close(vec[n], vec[4])  # same text, same centring, same vector
    sims = rec.similar_items(["new-a"], k=1)
    assert sims["similar"].iloc[0] == "i4" and sims["score"].iloc[0] == pytest.approx(1.0)
    full = rec.recommend(["u1"], k=rec.n_items, exclude_seen=False)
    assert {"new-a", "new-b"} <= set(full["item"])
    s = full.set_index("item")["score"]
    assert s["new-a"] == pytest.approx(s["i4"], abs=1e-6)
    with pytest.raises(ValueError, match=r"item ids \['new-a'\] already exist"):
        rec.add_items(["jazz"], ids=["new-a"])
    with pytest.raises(ValueError, match="one text per id"):
        rec.add_items(["jazz", "war"], ids=["x"])
    _, idm, imodule = id_model
    with pytest.raises(ValueError, match="IDEncoder cannot represent a new item from text"):
        Recommender.from_module(imodule, idm.train_data).add_items(["jazz"], ids=["x"])


def test_hybrid_users_keep_their_id_part_under_new_text(tiny_bert):
    hybrid = ["encoder=hybrid", "encoder.dim=16", f"encoder.text.model={tiny_bert}",
              "encoder.text.cache_dir=null", "encoder.text.device=cpu"]
    _, dm, module = train_module(hybrid, epochs=1)
    rec = Recommender.from_module(module, dm.train_data)
    enc = module.encoder
    rec.update("u2", new_text="horror night detective")
    with torch.no_grad():
        t = enc.text.users_from_text(["horror night detective"])
        e = enc.ids.encode_users(torch.tensor([2]))
        expected = enc.fuse(enc.user_gate, t, e)[0]
    torch.testing.assert_close(rec.user_vectors(["u2"]), expected)
    before = rec.user_vectors(["u2"]).clone()
    rec.update("u2", new_items=["i3"])  # hybrid users are folded in (free vectors)
    assert not torch.equal(rec.user_vectors(["u2"]), before)
    rec.add_items(["jazz kids"], ids=["fresh"])
    assert np.isfinite(rec.recommend(["u2"], k=3)["score"]).all()


def test_fold_in_works_for_a_non_dot_product_head(id_model):
    from causalrec.encoders import IDEncoder
    from causalrec.heads import TLearnerHead
    from causalrec.models import CausalRecModule

    _, dm, _ = id_model
    torch.manual_seed(2)
    enc = IDEncoder(dm.train_data, dim=8)
    module = CausalRecModule(enc, TLearnerHead(enc, dm.train_data, hidden=(8,))).eval()
    rec = Recommender.from_module(module, dm.train_data)
    item = rec.item_ids[int(torch.argmin(rec.full_scores(torch.tensor([7]))[0]))]
    before = float(rec.full_scores(torch.tensor([7]))[0, rec.item_index([item])[0]])
    rec.update("u7", new_items=[item])
    after = float(rec.full_scores(torch.tensor([7]))[0, rec.item_index([item])[0]])
    assert after > before
    assert len(rec._rows[7]) == 2  # both arms' encoders were folded in


def test_update_rejects_unknown_ids(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data)
    with pytest.raises(KeyError, match=r"unknown user ids \['zz'\]"):
        rec.update("zz", new_items=["i1"])
    with pytest.raises(KeyError, match=r"unknown item ids \['i404'\]"):
        rec.update("u1", new_items=["i404"])
    with pytest.raises(ValueError, match="cannot represent a user from text"):
        rec.update("u1", new_text="jazz")
