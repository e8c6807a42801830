"""Ranking, value, unbiased and popularity metrics against naive pure-Python references."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
import torch

from causalrec.evaluation.popularity import gini_index, popularity_diagnostics, tail_items
from causalrec.evaluation.ranking import ranking_metrics, user_auc
from causalrec.evaluation.unbiased import ips_ranking_metrics
from causalrec.evaluation.value import auc, mae, mse


def _ranked(scores, exclude):
    """Items sorted by descending score (ties by lower index, as torch.topk on distinct
    scores), excluded items removed."""
    return sorted((i for i in range(len(scores)) if not exclude[i]), key=lambda i: -scores[i])


def _reference(scores, target, exclude, k):
    """RecBole's definitions, one user at a time, in plain Python."""
    ranked = _ranked(scores, exclude)[:k]
    hits = [1 if target[i] else 0 for i in ranked]
    n_pos = sum(target)
    rec = sum(hits) / n_pos
    prec = sum(hits) / k
    hit = 1.0 if any(hits) else 0.0
    mrr = next((1.0 / (r + 1) for r, h in enumerate(hits) if h), 0.0)
    dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
    idcg = sum(1 / math.log2(r + 2) for r in range(min(n_pos, k)))
    ap, seen = 0.0, 0
    for r, h in enumerate(hits):
        if h:
            seen += 1
            ap += seen / (r + 1)
    return {"recall": rec, "precision": prec, "hit": hit, "mrr": mrr, "ndcg": dcg / idcg,
            "map": ap / min(n_pos, k)}


@pytest.fixture
def random_case():
    g = torch.Generator().manual_seed(0)
    b, n = 40, 30
    scores = torch.randn(b, n, generator=g)  # continuous: no ties
    target = torch.rand(b, n, generator=g) < 0.2
    exclude = (torch.rand(b, n, generator=g) < 0.3) & ~target
    target[0] = False  # a user without targets is dropped
    return scores, target, exclude


def test_topk_metrics_match_reference(random_case):
    scores, target, exclude = random_case
    ks = (1, 5, 10)
    got = ranking_metrics(scores, target, ks=ks, exclude=exclude)
    users = [u for u in range(len(scores)) if target[u].any()]
    assert len(got["ndcg@5"]) == len(users)
    for k in ks:
        refs = [_reference(scores[u].tolist(), target[u].tolist(), exclude[u].tolist(), k)
                for u in users]
        for m in ("recall", "precision", "hit", "mrr", "ndcg", "map"):
            want = np.array([r[m] for r in refs])
            np.testing.assert_allclose(got[f"{m}@{k}"].numpy(), want, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{m}@{k}")


def test_hand_computed_ndcg_and_map():
    # ranking: item 2 (target), 0, 1 (target), 3; k=3, two targets
    scores = torch.tensor([[0.8, 0.5, 0.9, 0.1]])
    target = torch.tensor([[False, True, True, False]])
    got = ranking_metrics(scores, target, ks=(3,))
    dcg = 1 + 1 / math.log2(4)
    assert got["ndcg@3"].item() == pytest.approx(dcg / (1 + 1 / math.log2(3)))
    assert got["map@3"].item() == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert got["mrr@3"].item() == 1.0


def _auc_reference(pos, neg):
    pairs = [(1.0 if p > q else 0.5 if p == q else 0.0) for p in pos for q in neg]
    return sum(pairs) / len(pairs)


def test_user_auc_and_gauc_match_pairwise_count():
    rnd = random.Random(1)
    b, n = 25, 20
    scores = torch.tensor([[float(rnd.randint(0, 6)) for _ in range(n)] for _ in range(b)])
    target = torch.tensor([[rnd.random() < 0.25 for _ in range(n)] for _ in range(b)])
    exclude = torch.tensor([[rnd.random() < 0.2 for _ in range(n)] for _ in range(b)]) & ~target
    a, w = user_auc(scores, target, exclude)
    num = den = 0.0
    for u in range(b):
        pos = [scores[u, i].item() for i in range(n) if target[u, i]]
        neg = [scores[u, i].item() for i in range(n) if not target[u, i] and not exclude[u, i]]
        if pos and neg:
            ref = _auc_reference(pos, neg)
            assert a[u].item() == pytest.approx(ref)
            assert w[u].item() == len(pos)
            num, den = num + ref * len(pos), den + len(pos)
        else:
            assert w[u].item() == 0
    assert (a * w).sum().item() / w.sum().item() == pytest.approx(num / den)


def test_value_metrics():
    rnd = random.Random(2)
    s = [rnd.choice([0.1, 0.2, 0.3, 0.5]) for _ in range(200)]
    y = [1 if rnd.random() < 0.3 + s_ else 0 for s_ in s]
    assert auc(s, y) == pytest.approx(
        _auc_reference([a for a, b in zip(s, y) if b], [a for a, b in zip(s, y) if not b]))
    assert mse(s, y) == pytest.approx(sum((a - b) ** 2 for a, b in zip(s, y)) / len(s))
    assert mae(s, y) == pytest.approx(sum(abs(a - b) for a, b in zip(s, y)) / len(s))
    with pytest.raises(ValueError, match="both classes"):
        auc([0.1, 0.2], [1, 1])


@pytest.mark.parametrize("self_normalized", [True, False])
def test_ips_metrics_match_reference(random_case, self_normalized):
    scores, target, exclude = random_case
    g = torch.Generator().manual_seed(3)
    prop = torch.rand(scores.shape[1], generator=g) * 0.9 + 0.1
    got = ips_ranking_metrics(scores, target, prop, ks=(5,), exclude=exclude,
                              self_normalized=self_normalized)
    prefix = "snips" if self_normalized else "ips"
    users = [u for u in range(len(scores)) if target[u].any()]
    for j, u in enumerate(users):
        ranked = _ranked(scores[u].tolist(), exclude[u].tolist())
        rank_of = {i: r + 1 for r, i in enumerate(ranked)}
        tg = [i for i in range(scores.shape[1]) if target[u, i]]
        denom = sum(1 / prop[i].item() for i in tg) if self_normalized else len(tg)
        rec = sum(1 / prop[i].item() for i in tg if rank_of[i] <= 5) / denom
        dcg = sum(1 / prop[i].item() / math.log2(rank_of[i] + 1) for i in tg
                  if rank_of[i] <= 5) / denom
        assert got[f"{prefix}_recall@5"][j].item() == pytest.approx(rec)
        assert got[f"{prefix}_dcg@5"][j].item() == pytest.approx(dcg)
    # uniform propensities: SNIPS recall is the plain recall
    plain = ranking_metrics(scores, target, ks=(5,), exclude=exclude)
    uni = ips_ranking_metrics(scores, target, torch.full_like(prop, 0.3), ks=(5,),
                              exclude=exclude)
    torch.testing.assert_close(uni["snips_recall@5"], plain["recall@5"])


def test_popularity_diagnostics_match_recbole_formulas():
    rnd = random.Random(4)
    n_items, n_users, k = 50, 30, 5
    pop = np.array([rnd.randint(0, 100) for _ in range(n_items)])
    lists = [rnd.sample(range(n_items), k) for _ in range(n_users)]
    counts = np.bincount(np.array(lists).ravel(), minlength=n_items)
    got = popularity_diagnostics(counts, pop, n_users, k, tail=0.5)
    # RecBole GiniIndex
    item_count = Counter(i for lst in lists for i in lst)
    sorted_count = np.array(sorted(item_count.values()))
    m = len(sorted_count)
    idx = np.arange(n_items - m + 1, n_items + 1)
    gini = np.sum((2 * idx - n_items - 1) * sorted_count) / (n_users * k) / n_items
    assert got["gini"] == pytest.approx(gini)
    assert got["coverage"] == pytest.approx(len(item_count) / n_items)
    assert got["avg_popularity"] == pytest.approx(
        np.mean([np.mean([pop[i] for i in lst]) for lst in lists]))
    tail = set(sorted(range(n_items), key=lambda i: (pop[i], i))[:n_items // 2])
    assert got["tail_share"] == pytest.approx(
        np.mean([np.mean([i in tail for i in lst]) for lst in lists]))
    assert tail_items(pop, tail=10).sum() == (pop <= 10).sum()
    assert gini_index(np.ones(7)) == pytest.approx(0.0)
    assert gini_index(np.r_[np.zeros(9), 5.0]) == pytest.approx(0.9)
