"""Discrete intents from embeddings: k-means clusters, and a 2-D projection for plots.

The labels are the discrete intent variable Z of the causal graph layer: one integer per
user, ready to be a column of the data a Bayesian network is fitted on. k-means is Lloyd
1982 with k-means++ seeding (Arthur & Vassilvitskii 2007); when k is not given it is chosen
by the mean silhouette coefficient (Rousseeuw 1987).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class IntentClusters:
    """Result of :func:`cluster_intents` with ``return_info=True``."""

    labels: np.ndarray
    k: int
    centers: np.ndarray
    silhouette: dict[int, float] = field(default_factory=dict)


def _as_array(embeddings) -> np.ndarray:
    if hasattr(embeddings, "detach"):
        embeddings = embeddings.detach().cpu().numpy()
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"embeddings must be a non-empty 2-D array [n, d]; got shape {x.shape}")
    bad = ~np.isfinite(x).all(1)
    if bad.any():
        raise ValueError(f"embeddings rows {np.flatnonzero(bad)[:5].tolist()} are not finite")
    return x


def cluster_intents(embeddings, k: int | None = None, k_range: tuple[int, int] = (2, 10),
                    seed: int = 0, n_init: int = 10, silhouette_sample: int | None = 5000,
                    return_info: bool = False):
    """Cluster ``embeddings`` [n, d] into intents with k-means.

    Args:
        k: number of clusters; ``None`` tries ``k_range`` (inclusive) and keeps the k with
            the highest mean silhouette.
        seed: random state of k-means (and of the silhouette subsample).
        silhouette_sample: score silhouettes on at most this many rows (``None``: all).
        return_info: also return k, the centres and the silhouette of every k tried.

    Returns:
        int64 labels [n] in ``0..k-1`` (numbered by decreasing cluster size), or an
        :class:`IntentClusters` when ``return_info``.

    Example:
        Two well-separated groups: the silhouette picks k = 2, the larger group is 0.

        >>> import numpy as np
        >>> from causalrec.encoders import cluster_intents
        >>> x = np.array([[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [11, 10], [11, 11]])
        >>> cluster_intents(x).tolist()
        [1, 1, 1, 0, 0, 0, 0]
        >>> info = cluster_intents(x, return_info=True)
        >>> info.k, info.centers.round(2).tolist()
        (2, [[10.5, 10.5], [0.33, 0.33]])
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    x = _as_array(embeddings)
    n = len(x)
    if k is not None:
        if not 1 <= k <= n:
            raise ValueError(f"k={k} must lie in 1..{n} (the number of rows)")
        candidates = [int(k)]
    else:
        lo, hi = int(k_range[0]), min(int(k_range[1]), n - 1)
        if lo < 2 or hi < lo:
            raise ValueError(f"k_range {k_range} gives no k in 2..{n - 1} to choose from "
                             f"({n} rows)")
        candidates = list(range(lo, hi + 1))
    scores: dict[int, float] = {}
    best = None
    for kk in candidates:
        km = KMeans(n_clusters=kk, n_init=n_init, random_state=seed).fit(x)
        if k is None:
            s = silhouette_score(x, km.labels_, sample_size=None if silhouette_sample is None
                                 or n <= silhouette_sample else silhouette_sample,
                                 random_state=seed)
            scores[kk] = float(s)
            if best is None or s > scores[best[0]]:
                best = (kk, km)
        else:
            best = (kk, km)
    kk, km = best
    # renumber by decreasing size (ties by centre order) so labels are stable and readable
    sizes = np.bincount(km.labels_, minlength=kk)
    order = np.lexsort((np.arange(kk), -sizes))
    relabel = np.empty(kk, dtype=np.int64)
    relabel[order] = np.arange(kk)
    labels = relabel[km.labels_]
    if not return_info:
        return labels
    return IntentClusters(labels=labels, k=kk, centers=km.cluster_centers_[order],
                          silhouette=scores)


def project_2d(embeddings, method: str = "pca", seed: int = 0, perplexity: float = 30.0,
               max_iter: int = 1000) -> np.ndarray:
    """A 2-D projection [n, 2] of ``embeddings`` for scatter plots.

    ``pca`` (linear, deterministic) or ``tsne`` (van der Maaten & Hinton 2008; perplexity is
    capped below the number of rows; ``max_iter`` optimisation steps, at least 250).

    Example:
        Three points on a line: PCA puts them at distance ``sqrt(2)`` either side of their
        mean along the first axis, and the second axis is empty:

        >>> import numpy as np
        >>> from causalrec.encoders import project_2d
        >>> p = project_2d(np.array([[0, 0, 0], [1, 1, 0], [2, 2, 0]]))
        >>> p.shape, np.abs(p).round(3).tolist()
        ((3, 2), [[1.414, 0.0], [0.0, 0.0], [1.414, 0.0]])
    """
    x = _as_array(embeddings)
    if method == "pca":
        from sklearn.decomposition import PCA

        if len(x) < 2:
            return np.zeros((len(x), 2))
        out = PCA(n_components=min(2, x.shape[1]), random_state=seed).fit_transform(x)
        return np.pad(out, ((0, 0), (0, 2 - out.shape[1])))
    if method == "tsne":
        from sklearn.manifold import TSNE

        if len(x) < 3:
            raise ValueError(f"t-SNE needs at least 3 rows, got {len(x)}")
        perp = min(perplexity, (len(x) - 1) / 3)
        return TSNE(n_components=2, perplexity=perp, random_state=seed,
                    init="pca", max_iter=max_iter).fit_transform(x)
    raise ValueError(f"unknown projection method {method!r}; choose 'pca' or 'tsne'")
