"""Counterfactual history explanations: verified by independent re-scoring, irreducible,
and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from causalrec.explain import ExplanationError, counterfactual_history
from causalrec.explain.history import nearest_neighbour_explanation


def _rank_after_removal(rec, user, item, remove) -> int:
    """Re-score independently: update, full scores with the original seen items masked."""
    u = int(rec.user_index([user])[0])
    seen = rec.seen_items([u])[0].copy()
    if len(remove):
        rec.update(user, remove_items=list(remove))
    try:
        s = rec.full_scores(torch.tensor([u]))[0].detach().clone()
    finally:
        rec.reset(user)
    s[torch.from_numpy(seen)] = float("-inf")
    i = int(rec.item_index([item])[0])
    return int((s > s[i]).sum()) + 1


def test_explanations_drop_the_item_and_are_irreducible(bpr):
    rec, _ = bpr
    k = 5
    found = 0
    for user in rec.user_ids[:16]:
        item = rec.recommend([user], k=k)["item"].iloc[0]
        e = counterfactual_history(rec, user, item, k, sufficient=False)
        assert e.rank_before == 1 and e.sufficient is None
        if not e.found:
            continue
        found += 1
        assert e.size == len(e.items) >= 1
        assert set(e.indices) <= set(rec.history(int(rec.user_index([user])[0])))
        assert _rank_after_removal(rec, user, item, e.items) == e.rank_after > k
        if e.size <= 3:  # no item of the set can be spared
            for drop in e.items:
                rest = [x for x in e.items if x != drop]
                assert _rank_after_removal(rec, user, item, rest) <= k
    assert found >= 3
    # probing left the recommender as it was
    assert rec.recommend([rec.user_ids[0]], k=k)["item"].iloc[0] == \
        rec.recommend([rec.user_ids[0]], k=k)["item"].iloc[0]


def test_nearest_neighbour_baseline_is_the_cosine_order(bpr):
    rec, _ = bpr
    user = rec.user_ids[1]
    item = rec.recommend([user], k=3)["item"].iloc[0]
    got = nearest_neighbour_explanation(rec, user, item, size=3)
    u, i = int(rec.user_index([user])[0]), int(rec.item_index([item])[0])
    q = rec.item_vectors().detach().numpy()
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    hist = np.asarray(rec.history(u))
    assert got == hist[np.argsort(-(q[hist] @ q[i]), kind="stable")[:3]].tolist()


def test_bad_input(bpr):
    rec, _ = bpr
    user = rec.user_ids[2]
    top = rec.recommend([user], k=3)
    with pytest.raises(ExplanationError, match="unknown user ids \\['nobody'\\]"):
        counterfactual_history(rec, "nobody", top["item"].iloc[0], 3)
    with pytest.raises(ExplanationError, match="unknown item ids \\['no-item'\\]"):
        counterfactual_history(rec, user, "no-item", 3)
    far = rec.recommend([user], k=20)["item"].iloc[-1]
    with pytest.raises(ExplanationError, match=r"not in user .* top-3 \(its rank is 20\)"):
        counterfactual_history(rec, user, far, 3)
    u = int(rec.user_index([user])[0])
    liked = rec.item_ids[rec.history(u)[0]]
    with pytest.raises(ExplanationError, match="already in user"):
        counterfactual_history(rec, user, liked, 3)
    with pytest.raises(ExplanationError, match="k must be an integer"):
        counterfactual_history(rec, user, top["item"].iloc[0], 0)


def _rank_with_only(rec, user, item, keep) -> int:
    """Re-score independently: a new user whose whole history is ``keep`` (item indices),
    their ID row folded in from the population mean; original seen items masked."""
    u = int(rec.user_index([user])[0])
    s = rec.history_scores(user, keep).clone()
    s[torch.from_numpy(rec.seen_items([u])[0])] = float("-inf")
    i = int(rec.item_index([item])[0])
    return int((s > s[i]).sum()) + 1


def test_sufficient_search_returns_necessary_and_sufficient_irreducible_sets(bpr):
    rec, _ = bpr
    k = 5
    checked = both_found = 0
    for user in rec.user_ids[:24]:
        item = rec.recommend([user], k=k)["item"].iloc[0]
        plain = counterfactual_history(rec, user, item, k, sufficient=False)
        both = counterfactual_history(rec, user, item, k)  # the default: sufficient=True
        assert both.found == plain.found  # the necessary set is always a candidate
        if not both.found:
            continue
        checked += 1
        assert _rank_after_removal(rec, user, item, both.items) == both.rank_after > k
        kept = _rank_with_only(rec, user, item, both.indices) <= k
        assert both.sufficient == kept
        if not both.sufficient:  # no N&S set found: the smallest necessary one
            assert both.size == plain.size
            continue
        both_found += 1
        if both.size <= 4:  # irreducible: without any one item it is not both any more
            for h in both.indices:
                rest = [x for x in both.indices if x != h]
                drops = _rank_after_removal(rec, user, item, list(rec.item_ids[rest])) > k \
                    if rest else False
                assert not (drops and rest and _rank_with_only(rec, user, item, rest) <= k)
    assert checked >= 4 and both_found >= 3
    with pytest.raises(ValueError, match="orders must be"):
        counterfactual_history(rec, rec.user_ids[6], rec.recommend([rec.user_ids[6]], k=k)[
            "item"].iloc[0], k, orders=("random",))


def test_the_summary_says_whether_the_set_is_sufficient(bpr):
    rec, _ = bpr
    said = set()
    for user in rec.user_ids[:16]:
        item = rec.recommend([user], k=5)["item"].iloc[0]
        e = counterfactual_history(rec, user, item, 5)
        if not e.found:
            assert str(e).startswith("no set of the user's interactions")
            continue
        text = str(e)
        assert f"falls from rank {e.rank_before} to {e.rank_after} (top-5)" in text
        assert ("a new user with only these gets it in the top-5 too" in text) == e.sufficient
        assert ("they alone would not get it into the top-5" in text) == (not e.sufficient)
        said.add(e.sufficient)
        plain = counterfactual_history(rec, user, item, 5, sufficient=False)
        assert "new user" not in str(plain) and "alone" not in str(plain)
    assert True in said
