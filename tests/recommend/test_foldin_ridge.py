"""The closed-form (ridge) fold-in of dot-product heads: equal to a direct numpy least-squares
solution of its objective, the identity when nothing is removed (calibrated) or within the
documented bound (uncalibrated), batched solves equal to single ones, the gradient fold-in
kept for other heads, and explanations through it verified by actual re-scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from causalrec.recommend import Recommender
from causalrec.recommend.foldin import RidgeFoldIn, fold_in

RIDGE = {"method": "ridge", "alpha": 5.0, "reg": 0.5}


def _numpy_ridge(V, start, history, base, alpha, reg, calibrate, target=None):
    """argmin_r sum_i c_i (p_i - r.v_i)^2 + reg ||r - m||^2 by np.linalg.lstsq on the stacked
    weighted rows (no normal equations), m as RidgeFoldIn documents."""
    V, start = np.asarray(V, np.float64), np.asarray(start, np.float64)
    n, d = V.shape
    if target is None:  # "auto": the largest trained score of a base item (1 if not > 0)
        target = max(float(V[h] @ start) for h in base)
        target = target if target > 0 else 1.0

    def system(hist):
        p = np.zeros(n)
        c = np.ones(n)
        c[np.asarray(hist, dtype=int)] += alpha
        p[np.asarray(hist, dtype=int)] = target
        return np.sqrt(c)[:, None] * V, np.sqrt(c) * p

    mean = start
    if calibrate:  # the prior mean whose solution for the base history is `start`
        X, y = system(base)
        mean = start + (X.T @ (X @ start) - X.T @ y) / reg
    X, y = system(history)
    X = np.vstack([X, np.sqrt(reg) * np.eye(d)])
    y = np.concatenate([y, np.sqrt(reg) * mean])
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _numpy_share(V, start, prior, history, base, alpha, reg, target=None):
    """calibrate="share": the fit from ``prior`` plus the residual ``start - fit(base)`` in
    proportion to the base items kept."""
    if target is None:
        target = max(float(V[h] @ start) for h in base)
    fit = _numpy_ridge(V, prior, history, base, alpha, reg, False, target)
    e = np.asarray(start, np.float64) - _numpy_ridge(V, prior, base, base, alpha, reg, False,
                                                     target)
    return fit + len(np.intersect1d(history, base)) / len(base) * e


@pytest.fixture()
def ridge_rec(id_model):
    _, dm, module = id_model
    return Recommender.from_module(module, dm.train_data, fold_in=dict(RIDGE))


@pytest.mark.parametrize(("calibrate", "target"), [(True, "auto"), (False, "auto"),
                                                   (True, 2.5), (False, 0.7)])
def test_ridge_equals_numpy_least_squares(ridge_rec, calibrate, target):
    rec = ridge_rec
    V = rec.item_vectors()
    start = rec.user_vectors(["u3"])[0]
    base = np.asarray(rec.history(3))
    assert len(base) >= 4
    kept = base[2:]
    rf = RidgeFoldIn(V, start, base, alpha=5.0, reg=0.5, calibrate=calibrate, target=target)
    t = None if target == "auto" else target
    want = _numpy_ridge(V.numpy(), start.numpy(), kept, base, 5.0, 0.5, calibrate, t)
    got = rf.solve(kept)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6, rtol=0)
    # batched removal sets and every prefix of an order give the same solutions
    np.testing.assert_allclose(rf.without([base[:2]])[0].numpy(), want, atol=1e-6, rtol=0)
    order = base[::-1]
    prefixes = rf.without_prefixes(order, len(order), chunk=3)
    for m in (1, 2, len(order) - 1, len(order)):
        oracle = _numpy_ridge(V.numpy(), start.numpy(), np.setdiff1d(base, order[:m]), base,
                              5.0, 0.5, calibrate, t)
        np.testing.assert_allclose(prefixes[m - 1].numpy(), oracle, atol=1e-6, rtol=0)
    # an added item too (solve takes any history)
    extra = np.concatenate([kept, [int(np.setdiff1d(np.arange(rec.n_items), base)[0])]])
    np.testing.assert_allclose(
        rf.solve(extra).numpy(),
        _numpy_ridge(V.numpy(), start.numpy(), extra, base, 5.0, 0.5, calibrate, t),
        atol=1e-6, rtol=0)


def test_update_uses_the_closed_form_and_is_deterministic(ridge_rec, id_model):
    rec = ridge_rec
    base = np.asarray(rec.history(4))
    start = rec.user_vectors(["u4"])[0]
    drop = list(rec.item_ids[base[:2]])
    rec.update("u4", remove_items=drop)
    got = rec.user_vectors(["u4"])[0]
    prior = rec.population_rows()[0].numpy()  # the Recommender's default: calibrate="share"
    want = _numpy_share(rec.item_vectors().numpy(), start.numpy(), prior, base[2:], base, 5.0,
                        0.5)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6, rtol=0)
    _, dm, module = id_model
    other = Recommender.from_module(module, dm.train_data, fold_in=dict(RIDGE))
    other.update("u4", remove_items=drop, seed=123)  # no sampling: the seed is irrelevant
    assert torch.equal(other.user_vectors(["u4"]), rec.user_vectors(["u4"]))
    rec.reset("u4")
    assert torch.equal(rec.user_vectors(["u4"]), start.unsqueeze(0))


def test_removing_nothing_keeps_the_ranking(ridge_rec):
    """Calibrated (default): the unchanged history returns the trained vector (rounding
    only), so the ranking is unchanged. Uncalibrated: every score moves by at most
    ``||v_i|| * ||A_B r0 - b_B|| / reg`` (RidgeFoldIn's documented bound), so a larger
    ``reg`` keeps the ranking closer."""
    rec = ridge_rec
    V = rec.item_vectors()
    for u in range(6):
        start = rec.user_vectors([rec.user_ids[u]])[0]
        base = np.asarray(rec.history(u))
        same = RidgeFoldIn(V, start, base, alpha=5.0, reg=0.5).solve(base)
        np.testing.assert_allclose(same.numpy(), start.numpy(), atol=1e-5, rtol=0)
        s0, s1 = V @ start, V @ same
        top0 = torch.topk(s0, 10).indices
        assert torch.equal(top0, torch.topk(s1, 10).indices)
        shifts = []
        for reg in (0.5, 5.0, 50.0):
            rf = RidgeFoldIn(V, start, base, alpha=5.0, reg=reg, calibrate=False)
            r = rf.solve(base).double()
            bound = float(torch.linalg.norm(rf.A_base @ rf.start - rf.b_base)) / reg
            assert float(torch.linalg.norm(r - start.double())) <= bound * (1 + 1e-6)
            ds = (V.double() @ (r - start.double())).abs()
            assert bool((ds <= V.double().norm(dim=1) * bound * (1 + 1e-6) + 1e-7).all())
            shifts.append(float(ds.max()))
        assert shifts[0] > shifts[1] > shifts[2]


def test_removing_an_item_lowers_its_score(ridge_rec):
    """With the "auto" target every residual is positive, so removing one item h moves the
    vector by -K v_h rho (K positive definite, rho > 0): h's own score must fall."""
    rec = ridge_rec
    V = rec.item_vectors()
    for u in range(5):
        start = rec.user_vectors([rec.user_ids[u]])[0]
        base = np.asarray(rec.history(u))
        rf = RidgeFoldIn(V, start, base, alpha=5.0, reg=0.5)
        rows = rf.without([[h] for h in base])
        own = (rows * V[torch.from_numpy(base)]).sum(1)
        assert bool((own < V[torch.from_numpy(base)] @ start).all())


def test_ridge_option_falls_back_to_gradient_for_other_heads(id_model):
    from causalrec.encoders import IDEncoder
    from causalrec.heads import TLearnerHead
    from causalrec.models import CausalRecModule

    _, dm, _ = id_model
    torch.manual_seed(2)
    enc = IDEncoder(dm.train_data, dim=8)
    module = CausalRecModule(enc, TLearnerHead(enc, dm.train_data, hidden=(8,))).eval()
    rec = Recommender.from_module(module, dm.train_data, fold_in=dict(RIDGE, steps=5))
    assert rec.ridge_fold_in(7) is None
    item = rec.item_ids[int(torch.argmin(rec.full_scores(torch.tensor([7]))[0]))]
    start = [r.clone() for r in rec._current_rows(7)]
    hist = np.asarray(rec.history(7) + [int(rec.item_index([item])[0])])
    want = fold_in(rec.head, rec.encoders, 7, start, hist, rec.n_items, steps=5, seed=0)
    rec.update("u7", new_items=[item])
    for got, w in zip(rec._rows[7], want, strict=True):
        assert torch.equal(got, w)


def test_bad_ridge_options_raise(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data, fold_in={"method": "newton"})
    with pytest.raises(ValueError, match="'method' must be 'auto', 'gradient' or 'ridge', got 'newton'"):
        rec.update("u1", remove_items=[rec.item_ids[rec.history(1)[0]]])
    rec = Recommender.from_module(module, dm.train_data, fold_in={"method": "ridge", "reg": 0})
    with pytest.raises(ValueError, match="reg > 0, got reg=0"):
        rec.update("u1", remove_items=[rec.item_ids[rec.history(1)[0]]])
    rec = Recommender.from_module(module, dm.train_data,
                                  fold_in={"method": "ridge", "target": "big"})
    with pytest.raises(ValueError, match="target must be a positive number or 'auto', got 'big'"):
        rec.update("u1", remove_items=[rec.item_ids[rec.history(1)[0]]])


def test_explanations_through_the_closed_form_are_verified(ridge_rec):
    from causalrec.explain import counterfactual_history
    from causalrec.explain.history import Prober

    rec, k, found = ridge_rec, 5, 0
    for user in rec.user_ids[:8]:
        u = int(rec.user_index([user])[0])
        item = rec.recommend([user], k=k)["item"].iloc[0]
        fast = counterfactual_history(rec, user, item, k, prune=4)
        assert Prober(rec, user).ridge is not None
        slow_prober = Prober(rec, user)
        slow_prober.ridge = slow_prober.fresh = None  # every probe through update() etc.
        slow = counterfactual_history(rec, user, item, k, prune=4, prober=slow_prober)
        assert (fast.found, fast.indices, fast.rank_after, fast.sufficient) == (
            slow.found, slow.indices, slow.rank_after, slow.sufficient)
        if not fast.found:
            continue
        found += 1
        seen = rec.seen_items([u])[0].copy()  # independent re-scoring
        rec.update(user, remove_items=fast.items)
        s = rec.full_scores(torch.tensor([u]))[0].clone()
        rec.reset(user)
        s[torch.from_numpy(seen)] = float("-inf")
        i = int(rec.item_index([item])[0])
        assert int((s > s[i]).sum()) + 1 == fast.rank_after > k
    assert found >= 3


def test_share_calibration_equals_numpy_and_empties_to_a_new_user(ridge_rec):
    """calibrate="share": equal to the lstsq oracle for removals, prefixes and additions;
    the unchanged history gives back the trained vector; removing the whole history gives
    the new user that history_scores folds in (nothing of the trained vector kept)."""
    rec = ridge_rec
    V = rec.item_vectors()
    prior = rec.population_rows()[0]
    for u in (2, 3):
        start = rec.user_vectors([rec.user_ids[u]])[0]
        base = np.asarray(rec.history(u))
        rf = RidgeFoldIn(V, start, base, alpha=5.0, reg=0.5, calibrate="share", prior=prior)
        args = (V.numpy(), start.numpy(), prior.numpy())
        np.testing.assert_allclose(rf.solve(base).numpy(), start.numpy(), atol=1e-5, rtol=0)
        np.testing.assert_allclose(rf.without([base[:2]])[0].numpy(),
                                   _numpy_share(*args, base[2:], base, 5.0, 0.5), atol=1e-6)
        order = base[::-1]
        rows = rf.without_prefixes(order, len(order), chunk=2)
        for m in (1, len(order) - 1):
            np.testing.assert_allclose(
                rows[m - 1].numpy(),
                _numpy_share(*args, np.setdiff1d(base, order[:m]), base, 5.0, 0.5), atol=1e-6)
        new = int(np.setdiff1d(np.arange(rec.n_items), base)[0])
        np.testing.assert_allclose(rf.solve(np.append(base, new)).numpy(),
                                   _numpy_share(*args, np.append(base, new), base, 5.0, 0.5),
                                   atol=1e-6)
        empty = rows[len(order) - 1]
        np.testing.assert_allclose(empty.numpy(), _numpy_ridge(
            V.numpy(), prior.numpy(), [], base, 5.0, 0.5, False, rf.target), atol=1e-6)
        np.testing.assert_allclose((empty @ V.T).numpy(),
                                   rec.history_scores(rec.user_ids[u], []).numpy(), atol=1e-5)
        assert float(torch.linalg.norm(empty - start)) > 0.1 * float(torch.linalg.norm(start))
    with pytest.raises(ValueError, match="calibrate must be True, False or 'share', got 'x'"):
        RidgeFoldIn(V, prior, [0], calibrate="x")
