"""Intent as a substitute confounder: the LM intent of each user, and an exposure model on it.

Wang, Liang, Charlin and Blei 2020 ("Causal Inference for Recommender Systems", RecSys; the
*deconfounded recommender*) fit a model of which items each user is exposed to and use its
per-user latent variable as a substitute for the unobserved confounders of exposure and
rating. Here that variable is the language-model intent of the user: the frozen text vector of
the user's own text (what :class:`~causalrec.encoders.TextIntentEncoder` embeds through the
embedding cache), optionally discretised into k-means intent clusters
(:func:`~causalrec.encoders.cluster_intents`).

:func:`user_intent` gives that covariate [n_users, d]; :class:`IntentPropensity` is the
exposure model ``P(O_ui = 1 | intent_u, item i)`` used for IPS/DR (``head.propensity``) and by
:class:`~causalrec.heads.deconfounded.DeconfoundedHead`. It reuses
:class:`~causalrec.heads.propensity.LogisticPropensity` (its training rows: exposed vs not
when the data logs exposure, else observed vs sampled pairs with the rare-events intercept
correction of King and Zeng 2001) with other covariates: the intent, item fixed effects, and
intent x item interactions.
"""

from __future__ import annotations

import numpy as np
import torch

from .propensity import LogisticPropensity

INTENT_SOURCES = ("encoder", "text", "features")


def _encoder_user_text(encoder) -> torch.Tensor | None:
    """The frozen user text vectors of a text encoder (or of a hybrid's text side)."""
    for enc in (encoder, getattr(encoder, "text", None)):
        emb = getattr(enc, "user_text_emb", None) if enc is not None else None
        if isinstance(emb, torch.Tensor) and emb.ndim == 2 and len(emb):
            return emb
    return None


def user_intent(data, encoder=None, source: str = "encoder", clusters: int | str | None = None,
                text: dict | None = None, max_dim: int | None = 16,
                seed: int = 0) -> np.ndarray:
    """The LM intent of every user as a float array [n_users, d] (the substitute confounder).

    Args:
        data: the training InteractionData (``user_text`` for ``source="text"``).
        encoder: the study's encoder; ``source="encoder"`` reads its frozen user text vectors
            (a :class:`~causalrec.encoders.TextIntentEncoder` with ``users: text`` and
            ``trainable_layers: 0``, or a :class:`~causalrec.encoders.HybridEncoder` over one).
        source: ``"encoder"`` or ``"text"`` (embed ``data.user_text`` with a frozen text
            model of its own, configured by ``text``: any TextIntentEncoder option, e.g.
            ``model``, ``cache_dir``, ``users: reviews`` for the recency-weighted texts of the
            user's own interactions; this lets an ID outcome model use the LM intent), or
            ``"features"`` (the numeric columns of ``data.user_features``, e.g. intents
            computed upstream).
        clusters: ``None`` keeps the continuous vectors; ``k`` gives one-hot k-means intents;
            ``"auto"`` chooses k in 2..10 by the silhouette (:func:`~causalrec.encoders.cluster_intents`).
        max_dim: continuous vectors are reduced to at most this many principal components
            (``None``: all), which keeps the exposure and outcome models small.
        seed: k-means / PCA random state.
    """
    if source not in INTENT_SOURCES:
        raise ValueError(f"intent source must be one of {INTENT_SOURCES}, got {source!r}")
    if source == "encoder":
        emb = _encoder_user_text(encoder)
        if emb is None:
            raise ValueError(
                f"intent source 'encoder' needs frozen user text vectors, but the encoder "
                f"{type(encoder).__name__} has none (use encoder=minilm or hybrid with users: "
                "text and trainable_layers: 0, or intent source 'text')")
        x = emb.detach().cpu().double().numpy()
    elif source == "features":
        feats = getattr(data, "user_features", None)
        num = None if feats is None else feats.reindex(range(int(data.n_users))) \
            .select_dtypes(include=[np.number, bool])
        if num is None or num.shape[1] == 0:
            raise ValueError(f"intent source 'features' needs numeric user_features in "
                             f"{getattr(data, 'source', '?')}")
        if num.isna().any().any():
            bad = np.flatnonzero(num.isna().any(axis=1).to_numpy())[:5].tolist()
            raise ValueError(f"intent source 'features': user_features rows {bad} have "
                             "missing values")
        x = num.to_numpy(np.float64)
    else:
        from ..encoders.text import TextIntentEncoder

        opts = {"users": "text", "dim": None, **(text or {})}
        if opts["users"] not in ("text", "reviews") or opts.get("trainable_layers", 0):
            raise ValueError("intent text model must be frozen with users: text or reviews, got "
                             f"users={opts['users']!r}, trainable_layers="
                             f"{opts.get('trainable_layers')}")
        x = TextIntentEncoder(data, **opts).user_text_emb.double().numpy()
    n = int(data.n_users) if data is not None else len(x)
    if len(x) != n:
        raise ValueError(f"intent has {len(x)} rows for {n} users")
    if clusters is not None:
        from ..encoders.intent_clusters import cluster_intents

        if clusters == "auto":
            info = cluster_intents(x, k=None, seed=seed, return_info=True)
            return np.eye(info.k)[info.labels]
        if isinstance(clusters, str) or int(clusters) < 1:
            raise ValueError(f"clusters must be None, 'auto' or a positive int, got "
                             f"{clusters!r}")
        labels = cluster_intents(x, k=int(clusters), seed=seed)
        return np.eye(int(clusters))[labels]
    if max_dim is not None and x.shape[1] > max_dim:
        x = x - x.mean(0)
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        x = x @ vt[:max_dim].T
    sd = x.std(0)
    return (x - x.mean(0)) / np.where(sd > 0, sd, 1.0)


class IntentPropensity(LogisticPropensity):
    """Exposure model on the LM intent:
    ``P(O=1 | u, i) = sigmoid(b + dot(w, z_u) + a_i + dot(z_u, W_i))``.

    :class:`~causalrec.heads.propensity.LogisticPropensity` (its training rows: exposed vs
    not when the data logs exposure, else observed vs sampled pairs with the rare-events
    intercept correction) with the user's LM intent ``z_u`` (:func:`user_intent`: text
    vectors, or k-means clusters) as the user covariates, item fixed effects ``a_i``, and,
    with ``interactions`` (the default), an intent x item term ``dot(z_u, W_i)``: exposure
    usually follows the match between a user's intent and an item, which an additive model
    cannot represent. Used as the propensity of IPS/DR heads and as the exposure model of the
    deconfounded recommender (Wang et al. 2020). ``LogisticPropensity(source="encoder")`` is
    the additive model over the encoder's *projected* vectors; this one reads the unprojected
    LM intent, can cluster it, and models the intent-item match.

    Args:
        intent: ``"encoder"``, ``"text"`` or ``"features"`` (see :func:`user_intent`).
        clusters, text, max_dim: see :func:`user_intent`.
        interactions: add the intent x item term.
        negatives, C, max_iter, seed: see LogisticPropensity (``C``: inverse L2 strength).
    """

    uses_encoder = True

    def __init__(self, intent: str = "encoder", clusters: int | str | None = None,
                 text: dict | None = None, max_dim: int | None = 16, interactions: bool = True,
                 negatives: int = 4, C: float = 1.0, max_iter: int = 300, seed: int = 0):
        super().__init__(source="encoder", negatives=negatives, C=C, max_iter=max_iter,
                         seed=seed)
        if intent not in INTENT_SOURCES:
            raise ValueError(f"IntentPropensity.intent must be one of {INTENT_SOURCES}, got "
                             f"{intent!r}")
        self.intent, self.clusters, self.text = intent, clusters, dict(text or {})
        self.max_dim, self.interactions = max_dim, bool(interactions)

    def fit(self, data, encoder=None) -> IntentPropensity:
        from scipy import sparse
        from sklearn.linear_model import LogisticRegression

        z = user_intent(data, encoder, self.intent, self.clusters, self.text, self.max_dim,
                        self.seed)
        self.intent_ = z
        n_items, d = int(data.n_items), z.shape[1]
        u, i, y, correction = self._rows(data)
        item_onehot = sparse.csr_matrix((np.ones(len(i)), (np.arange(len(i)), i)),
                                        shape=(len(i), n_items))
        blocks = [sparse.csr_matrix(z[u]), item_onehot]
        if self.interactions:  # row r: z_u placed in item i's block of d columns
            cols = i[:, None] * d + np.arange(d)[None, :]
            blocks.append(sparse.csr_matrix(
                (z[u].reshape(-1), (np.repeat(np.arange(len(i)), d), cols.reshape(-1))),
                shape=(len(i), n_items * d)))
        clf = LogisticRegression(C=self.C, max_iter=self.max_iter)
        clf.fit(sparse.hstack(blocks).tocsr(), y)
        w = clf.coef_[0]
        self.user_logit_ = torch.from_numpy(z @ w[:d] + clf.intercept_[0] + correction).float()
        self.item_logit_ = torch.from_numpy(w[d:d + n_items].copy()).float()
        self.z_ = torch.from_numpy(z).float()
        self.item_intent_ = torch.from_numpy(
            w[d + n_items:].reshape(n_items, d) if self.interactions
            else np.zeros((n_items, d))).float()
        self.fitted = True
        return self

    def predict(self, users, items, labels=None):
        dev = users.device
        logit = self.user_logit_.to(dev)[users] + self.item_logit_.to(dev)[items] \
            + (self.z_.to(dev)[users] * self.item_intent_.to(dev)[items]).sum(-1)
        return torch.sigmoid(logit)
