"""The Recommender's default fold-in ("auto"): the closed form for dot-product ID heads, the
gradient fold-in on request; the scale-following "auto" target; and a user known only by a
few items (``history_scores``) folded in from the population mean, equal to direct oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from causalrec.recommend import Recommender
from causalrec.recommend.foldin import RidgeFoldIn, auto_target, fold_in


def _lstsq(V, mean, hist, alpha, reg, target):
    """argmin_r sum_i c_i (p_i - r.v_i)^2 + reg ||r - mean||^2 by np.linalg.lstsq."""
    V = np.asarray(V, np.float64)
    c, p = np.ones(len(V)), np.zeros(len(V))
    c[np.asarray(hist, dtype=int)] += alpha
    p[np.asarray(hist, dtype=int)] = target
    X = np.vstack([np.sqrt(c)[:, None] * V, np.sqrt(reg) * np.eye(V.shape[1])])
    y = np.concatenate([np.sqrt(c) * p, np.sqrt(reg) * np.asarray(mean, np.float64)])
    return np.linalg.lstsq(X, y, rcond=None)[0]


def test_default_is_the_closed_form_for_dot_product_id_heads(id_model):
    _, dm, module = id_model
    auto = Recommender.from_module(module, dm.train_data)
    ridge = Recommender.from_module(module, dm.train_data, fold_in={"method": "ridge"})
    grad = Recommender.from_module(module, dm.train_data, fold_in={"method": "gradient"})
    assert auto.ridge_fold_in(3) is not None and grad.ridge_fold_in(3) is None
    trained = auto.user_vectors(["u3"])[0].clone()
    drop = [auto.item_ids[auto.history(3)[0]]]
    for rec in (auto, ridge, grad):
        rec.update("u3", remove_items=drop)
    assert torch.equal(auto.user_vectors(["u3"]), ridge.user_vectors(["u3"]))
    want = fold_in(grad.head, grad.encoders, 3, [trained], np.asarray(grad.history(3)),
                   grad.n_items, seed=0)[0]
    assert torch.equal(grad.user_vectors(["u3"])[0], want)
    assert not torch.equal(grad.user_vectors(["u3"]), auto.user_vectors(["u3"]))


def test_auto_target_follows_the_score_scale(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data)
    V = rec.item_vectors()
    start = rec.user_vectors(["u2"])[0]
    base = np.asarray(rec.history(2))
    top = max(float(V[h].double() @ start.double()) for h in base)
    assert top > 0
    assert auto_target(V, start, base) == pytest.approx(top, rel=1e-9)
    for c in (0.1, 10.0):  # the scores scale with the user vector, and so does the target
        assert auto_target(V, c * start, base) == pytest.approx(c * top, rel=1e-6)
        assert RidgeFoldIn(V, c * start, base).target == pytest.approx(c * top, rel=1e-6)
    assert auto_target(V, -start * 0, base) == 1.0 and auto_target(V, start, []) == 1.0
    # small scores (max < 1, as on the small simulator): removing h still lowers h's score
    small = 0.5 * start / max(top, 1e-9)
    rf = RidgeFoldIn(V, small, base)
    rows = rf.without([[h] for h in base])
    own = (rows * V[torch.from_numpy(base)]).sum(1)
    assert bool((own < V[torch.from_numpy(base)] @ small).all())


@pytest.mark.parametrize("method", ["auto", "gradient"])
def test_history_scores_fold_in_a_new_user_from_the_population_mean(id_model, method):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data, fold_in={"method": method})
    V = rec.item_vectors()
    with torch.no_grad():
        mean = rec.encoders[0].encode_users(torch.arange(rec.n_users)).mean(0)
    torch.testing.assert_close(rec.population_rows()[0], mean, atol=1e-6, rtol=0)
    keep = rec.history(6)[:2]
    got = rec.history_scores("u6", keep)
    if method == "auto":
        t = auto_target(V, rec.user_vectors(["u6"])[0], rec.history(6))
        r = _lstsq(V.numpy(), mean.numpy(), keep, 10.0, 1.0, t)
    else:
        r = fold_in(rec.head, rec.encoders, 6, [mean], np.asarray(keep), rec.n_items,
                    seed=0)[0].numpy()
    np.testing.assert_allclose(got.numpy(), V.numpy() @ r, atol=1e-5, rtol=0)
    # nothing of the user's other items survives: another user with the same scale gets
    # the same answer, and nothing is stored
    assert not rec._rows and rec.history(6)[:2] == keep and len(rec.history(6)) > 2
    if method == "gradient":
        other = rec.history_scores("u7", keep)
        torch.testing.assert_close(other, got)
    # the batched closed form: every prefix of an order at once
    if method == "auto":
        fresh = rec.ridge_fold_in(6, fresh=True)
        order = np.asarray(rec.history(6))
        rows = fresh.with_prefixes(order, len(order), chunk=2)
        for m in (1, len(order)):
            want = _lstsq(V.numpy(), mean.numpy(), order[:m], 10.0, 1.0, fresh.target)
            np.testing.assert_allclose(rows[m - 1].numpy(), want, atol=1e-5, rtol=0)


def test_solve_many_equals_single_solves(id_model):
    _, dm, module = id_model
    rec = Recommender.from_module(module, dm.train_data)
    rf = rec.ridge_fold_in(4)
    base = rec.history(4)
    sets = [base[1:], base[:1], [], base + [int(np.setdiff1d(np.arange(rec.n_items), base)[0])]]
    got = rf.solve_many(sets)
    for row, h in zip(got, sets, strict=True):
        torch.testing.assert_close(row, rf.solve(h), atol=1e-6, rtol=0)
    assert rf.solve_many([]).shape == (0, rec.item_vectors().shape[1])
