"""The deconfounded recommender with the language-model intent as the substitute confounder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .base import Head
from .pointwise_loss import check_loss_type, elementwise_loss
from .propensity_intent import user_intent


class DeconfoundedHead(Head):
    """Outcome model conditioned on a substitute confounder (Wang, Liang, Charlin and Blei
    2020, "Causal Inference for Recommender Systems", RecSys: the deconfounded recommender).

    The paper fits an exposure model, takes its per-user latent variable ``Z_u`` as a
    substitute for the confounders of exposure and outcome, and adds it as a covariate to the
    outcome model, ``y_ui ~ theta_u . beta_i + gamma_u * a_hat_ui`` with ``a_hat_ui`` the
    exposure model's reconstructed exposure. Here ``Z_u`` is the user's language-model intent
    (:func:`~causalrec.heads.propensity_intent.user_intent`: frozen text vectors or k-means
    intent clusters) and the outcome logit is

    ``s(u, i) = e_u . e_i + b + b_i + Z_u . A_i + gamma_u * logit(a_hat_ui)``

    with ``e`` the encoder's vectors, ``A_i`` each item's (L2-penalised) response to the
    intent, and ``a_hat_ui`` the exposure model passed as ``propensity`` (e.g.
    :class:`~causalrec.heads.propensity_intent.IntentPropensity`; without one the term is
    left out). Training is pointwise on the observed outcomes, unweighted, as in the paper:
    the adjustment is by covariates, not by weights. Because ``Z_u`` is a pre-treatment
    covariate, the prediction under ``do(exposure = 1)`` is the same outcome model, so
    the scores (:meth:`~causalrec.heads.Head.score`, :meth:`~causalrec.heads.Head.full_scores`)
    use it whole.

    Args:
        intent: ``"encoder"`` (the encoder's frozen user text vectors) or ``"text"`` (a
            frozen text model of the head's own over ``data.user_text``, options ``text``).
        clusters: ``None`` for continuous intent, ``k`` for one-hot k-means clusters,
            ``"auto"`` for k chosen by the silhouette.
        text, max_dim, seed: see :func:`~causalrec.heads.propensity_intent.user_intent`.
        loss_type: ``"bce"`` (0/1 labels), ``"mse"``, or ``"bpr"``: the same outcome model
            trained to rank each observed positive above a sampled negative (Rendle et al.
            2009), for implicit feedback (needs ``dataset.sampling=pairwise``; the global
            intercept cancels, the item effects, intent x item and exposure terms do not).
        weight_decay: L2 on the batch's encoder embeddings.
        intent_l2: L2 on the batch's ``A_i`` rows and ``gamma_u``.
        exposure_term: include ``gamma_u * logit(a_hat_ui)``. The term is collinear with the
            intent x item term when the exposure model reads the same intent, and per-user
            ``gamma_u`` extrapolates badly to pairs the logs rarely expose (positivity), so
            it is switchable; the exposure model still serves IPS/DR as ``propensity``.
    """

    sampling = None

    def __init__(self, encoder, data=None, propensity=None, intent: str = "encoder",
                 clusters: int | str | None = None, text: dict | None = None,
                 max_dim: int | None = 16, loss_type: str = "bce", weight_decay: float = 0.0,
                 intent_l2: float = 0.0, exposure_term: bool = True, seed: int = 0):
        super().__init__(encoder, data, propensity)
        if data is None:
            raise ValueError("DeconfoundedHead needs the training data (for the intent)")
        self.loss_type = loss_type if loss_type == "bpr" else \
            check_loss_type(loss_type, "DeconfoundedHead")
        self.weight_decay, self.intent_l2 = float(weight_decay), float(intent_l2)
        fitted = getattr(propensity, "intent_", None)
        z = fitted if fitted is not None and intent == getattr(propensity, "intent", None) \
            and clusters == getattr(propensity, "clusters", None) else \
            user_intent(data, encoder, intent, clusters, text, max_dim, seed)
        self.register_buffer("intent_z", torch.as_tensor(z, dtype=torch.float32))
        d = self.intent_z.shape[1]
        self.bias = nn.Parameter(torch.zeros(()))
        self.item_bias = nn.Embedding(self.n_items, 1)
        self.item_response = nn.Embedding(self.n_items, d)  # A_i
        self.user_exposure_coef = nn.Embedding(self.n_users, 1)  # gamma_u
        for emb in (self.item_bias, self.item_response, self.user_exposure_coef):
            nn.init.zeros_(emb.weight)
        if propensity is not None and exposure_term:
            uu = torch.arange(self.n_users).repeat_interleave(self.n_items)
            ii = torch.arange(self.n_items).repeat(self.n_users)
            with torch.no_grad():  # a_hat for every pair, once (the model is fitted)
                p = propensity(uu, ii).float().reshape(self.n_users, self.n_items)
            self.register_buffer("exposure_logit", torch.logit(p.clamp(1e-4, 1 - 1e-4)))
        else:
            self.exposure_logit = None

    # ------------------------------------------------------------------ outcome model
    def _adjustment(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        z = self.intent_z[users]
        out = self.bias + self.item_bias(items).squeeze(-1) \
            + (z * self.item_response(items)).sum(-1)
        if self.exposure_logit is not None:
            out = out + self.user_exposure_coef(users).squeeze(-1) \
                * self.exposure_logit[users, items]
        return out

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        return (u * v).sum(-1) + self._adjustment(users, items)

    def full_scores(self, users: torch.Tensor) -> torch.Tensor:
        u = self.encoder.encode_users(users)
        out = u @ self.encoder.all_items().T + self.bias + self.item_bias.weight.T \
            + self.intent_z[users] @ self.item_response.weight.T
        if self.exposure_logit is not None:
            out = out + self.user_exposure_coef(users) * self.exposure_logit[users]
        return out

    # ------------------------------------------------------------------ training
    def forward(self, batch):
        if self.loss_type == "bpr":
            return self._pairwise(batch)
        users, items, labels = self.pointwise_view(batch)
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        return {"score": (u * v).sum(-1) + self._adjustment(users, items), "label": labels,
                "reg": self.embedding_l2(u, v),
                "intent_reg": self.embedding_l2(self.item_response(items),
                                                self.user_exposure_coef(users))}

    def _pairwise(self, batch):
        if "neg_item" not in batch:
            raise KeyError("DeconfoundedHead(loss_type='bpr') needs pairwise batches: set "
                           "dataset.sampling=pairwise")
        users, pos, neg = batch["user"], batch["item"], batch["neg_item"]
        u = self.encoder.encode_users(users)
        v, w = self.encoder.encode_items(pos), self.encoder.encode_items(neg)
        return {"score": (u * v).sum(-1) + self._adjustment(users, pos),
                "neg_score": (u * w).sum(-1) + self._adjustment(users, neg),
                "reg": self.embedding_l2(u, v, w, per=2),
                "intent_reg": self.embedding_l2(self.item_response(torch.cat([pos, neg])),
                                                self.user_exposure_coef(users))}

    def loss(self, batch, outputs):
        if self.loss_type == "bpr":
            loss = -F.logsigmoid(outputs["score"] - outputs["neg_score"]).mean()
            return loss + self.weight_decay * outputs["reg"] \
                + self.intent_l2 * outputs["intent_reg"]
        loss = elementwise_loss(outputs["score"], outputs["label"], self.loss_type).mean()
        return loss + self.weight_decay * outputs["reg"] + self.intent_l2 * outputs["intent_reg"]
