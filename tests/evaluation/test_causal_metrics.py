"""Causal metrics against naive loops and hand-computed values."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from causalrec.evaluation.causal import (
    ate_abs_error,
    auuc,
    causal_dcg_at_k,
    causal_precision_at_k,
    ips_effect,
    pehe,
    qini,
    qini_curve,
    uplift_curve,
)


def _curves_reference(score, t, y):
    order = sorted(range(len(score)), key=lambda i: -score[i])
    up, qi = [0.0], [0.0]
    for n in range(1, len(score) + 1):
        top = order[:n]
        nt = sum(t[i] for i in top)
        nc = n - nt
        yt = sum(y[i] for i in top if t[i])
        yc = sum(y[i] for i in top if not t[i])
        up.append((yt / nt - yc / nc) * n if nt and nc else 0.0)
        qi.append(yt - yc * nt / nc if nc else 0.0)
    return np.array(up), np.array(qi)


def test_ate_and_pehe():
    tau = np.array([0.1, 0.3, -0.2, 0.4])
    est = np.array([0.2, 0.1, -0.2, 0.5])
    assert ate_abs_error(est, tau) == pytest.approx(abs(est.mean() - tau.mean()))
    assert pehe(est, tau) == pytest.approx(math.sqrt(np.mean((est - tau) ** 2)))
    with pytest.raises(ValueError, match="units"):
        pehe(est, tau[:3])


def test_uplift_and_qini_curves_match_reference():
    rnd = random.Random(0)
    n = 60
    score = [rnd.random() for _ in range(n)]
    t = [rnd.random() < 0.5 for _ in range(n)]
    y = [float(rnd.random() < (0.2 + 0.5 * s * tt)) for s, tt in zip(score, t)]
    up_ref, qi_ref = _curves_reference(score, t, y)
    np.testing.assert_allclose(uplift_curve(score, t, y), up_ref)
    np.testing.assert_allclose(qini_curve(score, t, y), qi_ref)
    area = np.mean(up_ref[1:] - np.arange(1, n + 1) / n * up_ref[-1]) / n
    assert auuc(score, t, y) == pytest.approx(area)
    assert auuc(score, t, y, normalize=False) == pytest.approx(np.mean(up_ref[1:]) / n)
    assert qini(score, t, y) == pytest.approx(
        np.mean(qi_ref[1:] - np.arange(1, n + 1) / n * qi_ref[-1]) / n)


def test_uplift_ranking_by_true_effect_beats_reverse():
    rng = np.random.default_rng(1)
    n = 4000
    tau = rng.uniform(-0.2, 0.6, n)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < 0.2 + tau * t).astype(float)
    assert auuc(tau, t, y) > 0.02 > auuc(-tau, t, y)
    assert qini(tau, t, y) > 0 > qini(-tau, t, y)


def test_causal_precision_and_dcg():
    scores = torch.tensor([[0.9, 0.1, 0.5, 0.7], [0.2, 0.8, 0.6, 0.1]])
    tau = torch.tensor([[0.3, 1.0, -0.1, 0.2], [0.5, 0.0, 0.4, 0.9]])
    exclude = torch.tensor([[False, False, False, True], [False, False, False, False]])
    cp = causal_precision_at_k(scores, tau, 2, exclude)
    # user 0: top-2 among {0,1,2} = items 0, 2; user 1: items 1, 2
    torch.testing.assert_close(cp, torch.tensor([(0.3 - 0.1) / 2, (0.0 + 0.4) / 2],
                                                dtype=torch.float64))
    cd = causal_dcg_at_k(scores, tau, 2, exclude)
    torch.testing.assert_close(cd, torch.tensor([0.3 - 0.1 / math.log2(3),
                                                 0.0 + 0.4 / math.log2(3)], dtype=torch.float64))


def test_ips_effect_is_unbiased_under_randomization():
    rng = np.random.default_rng(2)
    n = 200_000
    p = rng.uniform(0.2, 0.8, n)
    z = rng.random(n) < p
    y = (rng.random(n) < 0.1 + 0.3 * z).astype(float)
    assert ips_effect(y, z, p).mean() == pytest.approx(0.3, abs=0.01)
