"""The head contract: ``loss(batch, outputs)``, ``score(users, items)``, ``full_scores(users)``."""

from __future__ import annotations

import torch
from torch import nn


class Head(nn.Module):
    """Base class of causal effect heads.

    A head is built as ``Head(encoder=..., data=<train InteractionData>, propensity=None,
    **config)``. ``forward(batch)`` computes what :meth:`loss` needs (the module calls
    ``loss(batch, self(batch))``); :meth:`score` and :meth:`full_scores` give the ranking
    scores used at evaluation time (a head with counterfactual inference, e.g. MACR or PDA,
    applies it there). Propensity models are fitted once outside and passed in, never
    recomputed inside a training step.

    Class attribute ``sampling`` names the training batches the head needs from
    :class:`causalrec.data.CausalRecDataModule` (``"pairwise"``: user/item/neg_item triples;
    ``"pointwise"``: user/item/label rows; ``None``: either); ``data_needs`` names any other
    dataset option the method requires (e.g. ``{"train_rows": "all", "negatives": 0}`` for
    uplift heads, whose treatment is the exposure). A dataset config value ``auto`` takes the
    head's need; an explicit value that contradicts it is an error naming the key
    (:func:`causalrec.models.resolve_data_needs`), never silently rewritten.
    """

    #: the training batches the head needs (``"pairwise"``, ``"pointwise"`` or ``None``)
    sampling: str | None = None
    #: other dataset options the head requires, as a dict (see :meth:`needs`)
    data_needs: dict = {}

    @classmethod
    def needs(cls) -> dict:
        """Every dataset option this head requires: ``sampling`` and :attr:`data_needs`.

        Example:
            >>> from causalrec.heads import BPRHead, IPSHead
            >>> BPRHead.needs(), IPSHead.needs()
            ({'sampling': 'pairwise'}, {})
        """
        out = dict(cls.data_needs)
        if cls.sampling is not None:
            out["sampling"] = cls.sampling
        return out

    def __init__(self, encoder: nn.Module, data=None, propensity=None):
        super().__init__()
        self.encoder = encoder
        self.propensity = propensity
        self.n_users = int(getattr(data, "n_users", getattr(encoder, "n_users", 0)) or 0)
        self.n_items = int(getattr(data, "n_items", getattr(encoder, "n_items", 0)) or 0)

    @staticmethod
    def embedding_l2(*embeddings: torch.Tensor, per: float = 1.0) -> torch.Tensor:
        """The L2 term of a batch: the squared norms of the embeddings the batch used,
        summed and divided by ``per`` x the batch size (the first tensor's rows). Heads add
        ``weight_decay * embedding_l2(...)`` to their loss (RecBole's ``EmbLoss``)."""
        return sum(e.pow(2).sum() for e in embeddings) / (per * len(embeddings[0]))

    # ------------------------------------------------------------------ the contract
    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """What :meth:`loss` needs from a training batch; by default ``{"score": score of
        each (user, item) row}``."""
        return {"score": self.score(batch["user"], batch["item"])}

    def loss(self, batch: dict[str, torch.Tensor], outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The scalar training loss of ``batch`` given ``outputs = self(batch)`` (the
        module's ``training_step`` calls ``head.loss(batch, head(batch))``)."""
        raise NotImplementedError

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Ranking scores ``[B]`` of the pairs ``(users[j], items[j])``; by default the
        dot product of the encoder's user and item representations."""
        u = self.encoder.encode_users(users)
        v = self.encoder.encode_items(items)
        return (u * v).sum(-1)

    def full_scores(self, users: torch.Tensor) -> torch.Tensor:
        """Ranking scores ``[B, n_items]`` of every item for each of ``users`` (what
        :func:`causalrec.evaluation.evaluate` and the Recommender rank)."""
        u = self.encoder.encode_users(users)
        return u @ self.encoder.all_items().T

    # ------------------------------------------------------------------ shared pieces
    @staticmethod
    def pointwise_view(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor,
                                                                   torch.Tensor]:
        """(users, items, labels) of a batch; a pairwise batch becomes its positives (label
        1) followed by its sampled negatives (label 0)."""
        if "neg_item" in batch:
            u, i, j = batch["user"], batch["item"], batch["neg_item"]
            ones = torch.ones(len(u), device=u.device)
            return torch.cat([u, u]), torch.cat([i, j]), torch.cat([ones, torch.zeros_like(ones)])
        if "label" in batch:
            target = batch["label"]
        elif "rating" in batch:
            target = batch["rating"]
        else:
            raise KeyError("training batch has neither 'label'/'rating' nor 'neg_item' "
                           f"(keys {sorted(batch)}); check dataset.sampling")
        return batch["user"], batch["item"], target.float()

    def propensities(self, users: torch.Tensor, items: torch.Tensor,
                     labels: torch.Tensor | None = None,
                     batch: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """P(observed) of each (user, item): the fitted propensity model when the head has
        one, else the logged ``propensity`` column of the batch."""
        if self.propensity is not None:
            return self.propensity(users, items, labels).to(users.device).float()
        if batch is not None and "propensity" in batch and len(batch["propensity"]) == len(users):
            return batch["propensity"].float()
        raise ValueError(
            f"{type(self).__name__} needs propensities: set head.propensity (a model from "
            "causalrec.heads.propensity, e.g. PopularityPropensity) or use data with a "
            "'propensity' column and pointwise batches")
