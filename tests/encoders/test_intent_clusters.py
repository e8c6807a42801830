"""Intent clustering recovers planted clusters; the 2-D projection."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score

from causalrec.encoders import cluster_intents, project_2d


def _blobs(k=4, per=40, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((k, d)) * 5
    truth = np.repeat(np.arange(k), per)
    return centers[truth] + rng.standard_normal((k * per, d)) * 0.5, truth


def test_recovers_planted_clusters_and_k():
    x, truth = _blobs(k=4)
    info = cluster_intents(x, k=None, k_range=(2, 6), n_init=3, return_info=True)
    assert info.k == 4 and max(info.silhouette, key=info.silhouette.get) == 4
    assert adjusted_rand_score(truth, info.labels) == 1.0
    labels = cluster_intents(torch.from_numpy(x), k=4, n_init=3)
    assert labels.dtype == np.int64 and set(labels) == {0, 1, 2, 3}
    np.testing.assert_array_equal(labels, info.labels)


def test_labels_numbered_by_size():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 0.1, (10, 2)), rng.normal(10, 0.1, (30, 2)),
                        rng.normal(-10, 0.1, (20, 2))])
    labels = cluster_intents(x, k=3)
    assert np.bincount(labels).tolist() == [30, 20, 10]
    assert (labels[10:40] == 0).all()


def test_projection_and_errors():
    x, _ = _blobs(k=3, per=10)
    p = project_2d(x, "pca")
    centered = x - x.mean(0)
    var = np.linalg.svd(centered, compute_uv=False)[:2] ** 2 / (len(x) - 1)
    np.testing.assert_allclose(p.var(0, ddof=1), var, rtol=1e-6)
    assert project_2d(x, "tsne", max_iter=250).shape == (30, 2)
    with pytest.raises(ValueError, match="unknown projection"):
        project_2d(x, "umap")
    with pytest.raises(ValueError, match="not finite"):
        cluster_intents(np.array([[0.0, np.nan], [1, 1], [2, 2]]), k=2)
    with pytest.raises(ValueError, match="k=9 must lie"):
        cluster_intents(x[:5], k=9)
