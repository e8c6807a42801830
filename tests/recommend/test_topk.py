"""Exact chunked top-K and the faiss index against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from causalrec.recommend import FaissIndex, Recommender, exact_topk, recall_at_k


def _clustered(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(32, d, generator=g)
    return centres[torch.randint(32, (n,), generator=g)] + 0.5 * torch.randn(n, d, generator=g)


def test_exact_topk_equals_brute_force_in_any_chunking():
    items, users = _clustered(300, 8, 0), _clustered(40, 8, 1)
    rng = np.random.default_rng(0)
    seen = [rng.choice(300, size=rng.integers(0, 20), replace=False) for _ in range(40)]
    allowed = torch.from_numpy(rng.random(300) < 0.7)
    full = users @ items.T
    brute = full.clone()
    brute[:, ~allowed] = float("-inf")
    for u, s in enumerate(seen):
        brute[u, torch.from_numpy(s)] = float("-inf")
    expected = torch.topk(brute, 7, dim=1)
    for chunk in (1, 6, 64):
        s, i = exact_topk(lambda u: full[u], torch.arange(40), 7,
                          lambda u: [seen[x] for x in u], allowed, chunk=chunk)
        assert torch.equal(i, expected.indices) and torch.equal(s, expected.values)


def test_recall_at_k_by_hand():
    exact = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    approx = torch.tensor([[4, 3, 9, -1], [5, 6, 7, 8]])
    assert recall_at_k(approx, exact) == pytest.approx((2 / 4 + 1) / 2)


@pytest.mark.parametrize("kind,floor", [("flat", 1.0), ("hnsw", 0.95), ("ivf", 0.9)])
def test_faiss_index_recall_and_exclusion(kind, floor):
    items, users = _clustered(4000, 16, 2), _clustered(100, 16, 3)
    exact = torch.topk(users @ items.T, 10, dim=1).indices
    params = {"nprobe": 16} if kind == "ivf" else {}
    index = FaissIndex(items, kind=kind, threads=1, **params)
    scores, approx = index.search(users, 10)
    assert recall_at_k(approx, exact) >= floor
    got = (users @ items.T).gather(1, approx.clamp(min=0))
    torch.testing.assert_close(scores, got, atol=1e-4, rtol=1e-4)  # scores are inner products
    seen = [exact[u, :5].numpy() for u in range(100)]  # hide each user's best five
    _, masked = index.search(users, 10, exclude=seen)
    for u in range(100):
        assert not set(masked[u].tolist()) & set(seen[u].tolist())
    if kind == "flat":
        assert torch.equal(masked[:, :5], exact[:, 5:])
    with pytest.raises(ValueError, match="kind must be one of"):
        FaissIndex(items, kind="lsh")


def test_recommender_approximate_lists(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data, split=dm.split)
    users = list(rec.user_ids[:30])
    with pytest.raises(ValueError, match="build_index"):
        rec.recommend(users, approximate=True)
    rec.build_index("flat")
    assert rec.recommend(users, k=5, approximate=True)["item"].tolist() == \
        rec.recommend(users, k=5)["item"].tolist()
    assert rec.index_recall(users, k=5) == 1.0
    rec.build_index("hnsw", threads=1)
    assert rec.index_recall(users, k=5) >= 0.9


def test_an_index_needs_a_dot_product_head(id_model):
    from causalrec.encoders import IDEncoder
    from causalrec.heads import TLearnerHead
    from causalrec.models import CausalRecModule

    _, dm, _ = id_model
    enc = IDEncoder(dm.train_data, dim=8)
    rec = Recommender.from_module(CausalRecModule(enc, TLearnerHead(enc, dm.train_data)),
                                  dm.train_data)
    with pytest.raises(ValueError, match="TLearnerHead does not score by a dot product"):
        rec.build_index()


@pytest.mark.parametrize("n", [100, 2000, 10_007])
def test_block_topk_equals_torch_topk(n):
    from causalrec.recommend.topk import block_topk

    g = torch.Generator().manual_seed(n)
    scores = torch.randn(30, n, generator=g)
    scores[:, ::5] = float("-inf")  # masked items, as seen items are
    scores[3, : n - 4] = float("-inf")  # a row with only four finite scores
    for k in (1, 10, 25):
        values, idx = block_topk(scores, k, block=16)
        top = torch.topk(scores, k, dim=1)
        assert torch.equal(values, top.values)
        finite = torch.isfinite(values)  # which -inf columns fill a short row may differ
        assert torch.equal(idx[finite], top.indices[finite])
        assert torch.equal(scores.gather(1, idx), values)
