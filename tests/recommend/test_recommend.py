"""Recommender.recommend / recommend_text / similar_items against the evaluation loop and
brute-force oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from causalrec.evaluation import evaluate
from causalrec.recommend import Recommender


def _lists(frame) -> dict[str, list[str]]:
    return {u: g.sort_values("rank")["item"].tolist() for u, g in frame.groupby("user")}


@pytest.mark.parametrize("model", ["id_model", "text_model"])
def test_recommend_returns_exactly_the_evaluated_top_k(model, request):
    cfg, dm, module = request.getfixturevalue(model)
    split = dm.split
    _, topk = evaluate(module.head, split, ks=(10, 20), metrics=("recall",), stage="test",
                       return_topk=True, diagnostics=False)
    rec = Recommender.from_module(module, dm.train_data, split=split)
    users = sorted(topk)
    assert len(users) > 20
    raw = rec.user_ids[users]
    got = _lists(rec.recommend(raw, k=10, exclude_seen=True))
    for u, r in zip(users, raw, strict=True):
        assert got[r] == list(rec.item_ids[topk[u][:10]]), r
    # and the scores are the head's own, bit for bit
    with torch.no_grad():
        some = torch.as_tensor(users[:50])
        assert torch.equal(rec.full_scores(some), module.head.full_scores(some))
    frame = rec.recommend(raw[:3], k=5)
    with torch.no_grad():
        full = module.head.full_scores(torch.as_tensor(users[:3]))
    for _, row in frame.iterrows():
        u = users[list(raw[:3]).index(row["user"])]
        i = rec.item_index([row["item"]])[0]
        assert row["score"] == pytest.approx(float(full[users[:3].index(u), i]), abs=1e-6)


def test_exclude_seen_masks_train_and_validation_items(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data, split=dm.split)
    seen = (dm.split.train.csr() + dm.split.valid.csr()).tocsr()
    frame = rec.recommend(rec.user_ids[:10], k=20)
    for u in range(10):
        items = rec.item_index(frame[frame["user"] == rec.user_ids[u]]["item"])
        assert not set(items) & set(seen[u].indices)
    everything = rec.recommend(rec.user_ids[:1], k=rec.n_items, exclude_seen=False)
    assert len(everything) == rec.n_items  # nothing masked: the whole catalogue, ranked
    assert everything["score"].is_monotonic_decreasing


def test_candidates_restrict_the_ranking(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data)
    cand = list(rec.item_ids[[3, 7, 11, 19, 23, 31]])
    frame = rec.recommend(["u5"], k=4, candidates=cand, exclude_seen=False)
    with torch.no_grad():
        scores = module.head.full_scores(torch.tensor([5]))[0]
    order = sorted(cand, key=lambda i: -float(scores[rec.item_index([i])[0]]))
    assert frame["item"].tolist() == order[:4]


def test_recommend_text_of_a_users_own_text_is_that_user(text_model):
    _, dm, module = text_model
    rec = Recommender.from_module(module, dm.train_data, split=dm.split)
    users = [0, 7, 33]
    texts = [dm.train_data.user_text[u] for u in users]
    reps = torch.stack([r[0] for r in rec.text_rows(texts)])
    trained = module.encoder.encode_users(torch.tensor(users)).detach()
    cos = torch.nn.functional.cosine_similarity(reps, trained, dim=1)
    assert bool((cos >= 0.9999).all()), cos
    by_text = _lists(rec.recommend_text(texts, k=10, labels=list(rec.user_ids[users])))
    by_user = _lists(rec.recommend(rec.user_ids[users], k=10, exclude_seen=False))
    assert by_text == by_user


def test_similar_items_match_brute_force_cosine(text_model):
    _, dm, module = text_model
    rec = Recommender.from_module(module, dm.train_data)
    vec = module.encoder.all_items().detach()
    frame = rec.similar_items(["i4", "i9"], k=5)
    for item in ("i4", "i9"):
        j = rec.item_index([item])[0]
        cos = torch.nn.functional.cosine_similarity(vec[j:j + 1], vec, dim=1)
        cos[j] = -2
        expected = list(rec.item_ids[torch.argsort(cos, descending=True)[:5].numpy()])
        assert frame[frame["item"] == item]["similar"].tolist() == expected


def test_uplift_and_outcome_objectives_rank_by_the_heads_estimates(id_model):
    from causalrec.encoders import IDEncoder
    from causalrec.heads import TLearnerHead
    from causalrec.models import CausalRecModule

    _, dm, bpr = id_model
    torch.manual_seed(1)
    enc = IDEncoder(dm.train_data, dim=8)
    module = CausalRecModule(enc, TLearnerHead(enc, dm.train_data, hidden=(8,))).eval()
    rec = Recommender.from_module(module, dm.train_data)
    users = torch.tensor([2, 9])
    items = torch.arange(rec.n_items)
    for objective, fn in (("uplift", module.head.effect),
                          ("outcome", lambda u, i: module.head.outcome(u, i, 1))):
        frame = rec.recommend(["u2", "u9"], k=6, exclude_seen=False, objective=objective)
        for b, u in enumerate(users.tolist()):
            with torch.no_grad():
                s = fn(torch.full((len(items),), u), items)
            expected = list(rec.item_ids[torch.argsort(s, descending=True)[:6].numpy()])
            assert _lists(frame)[f"u{u}"] == expected, (objective, b)
    plain = Recommender.from_module(bpr, dm.train_data)
    with pytest.raises(ValueError, match="objective='uplift'.*BPRHead has none"):
        plain.recommend(["u1"], objective="uplift")
    with pytest.raises(ValueError, match="objective must be one of"):
        plain.recommend(["u1"], objective="clicks")


def test_bad_input_names_the_value(id_model, text_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data)
    with pytest.raises(KeyError, match=r"unknown user ids \['nobody'\]"):
        rec.recommend(["u1", "nobody"])
    with pytest.raises(KeyError, match=r"unknown item ids \['i999'\]"):
        rec.recommend(["u1"], candidates=["i1", "i999"])
    for k in (0, -3, rec.n_items + 1, 2.5):
        with pytest.raises(ValueError, match=rf"k must be an integer in 1\.\.{rec.n_items}.*"
                                             rf"got {k!r}"):
            rec.recommend(["u1"], k=k)
    with pytest.raises(ValueError, match="cannot represent a user from text"):
        rec.recommend_text(["space adventure"])
    _, tdm, tmodule = text_model
    trec = Recommender.from_module(tmodule, tdm.train_data)
    for texts, pattern in (([""], "text 0 is empty"), (["jazz", "   "], "text 1 is empty"),
                           ([], "texts is empty")):
        with pytest.raises(ValueError, match=pattern):
            trec.recommend_text(texts)
    with pytest.raises(TypeError, match="not one string"):
        trec.recommend_text("jazz")
    assert np.isfinite(trec.recommend_text(["jazz night"], k=3)["score"]).all()


def test_k_is_checked_against_the_candidates(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data)
    with pytest.raises(ValueError, match=r"1\.\.2 \(the number of distinct candidates\), got 3"):
        rec.recommend(["u1"], k=3, candidates=["i1", "i2", "i1"])
    with pytest.raises(ValueError, match=rf"1\.\.{rec.n_items - 1} \(the other items"):
        rec.similar_items(["i1"], k=rec.n_items)
