"""ID encoder: learned user and item embedding tables, the matrix-factorisation backbone."""

from __future__ import annotations

import torch
from torch import nn

from .base import Encoder, as_interaction_data


class IDEncoder(Encoder):
    """Embedding tables for users and items (Koren et al. 2009, "Matrix Factorization
    Techniques for Recommender Systems").

    Args:
        data: training InteractionData (only its sizes are read).
        dim: embedding size.
        init_std: standard deviation of the normal initialisation (Xavier when ``None``).

    Example:
        A user's representation is its row of the table, unless the Recommender substitutes
        one (:meth:`~causalrec.encoders.Encoder.override_users`, e.g. after an update):

        >>> import torch
        >>> from causalrec.data import generate_interactions
        >>> from causalrec.encoders import IDEncoder
        >>> enc = IDEncoder(generate_interactions(n_users=5, n_items=7, per_user=2), dim=3)
        >>> torch.equal(enc.encode_users(torch.tensor([2])), enc.user_emb.weight[2:3])
        True
        >>> with enc.override_users(torch.tensor([2]), torch.ones(1, 3)):
        ...     rows = enc.encode_users(torch.tensor([2, 0]))
        >>> rows[0].tolist(), torch.equal(rows[1], enc.user_emb.weight[0])
        ([1.0, 1.0, 1.0], True)
    """

    def __init__(self, data, dim: int = 64, init_std: float | None = None):
        super().__init__()
        data = as_interaction_data(data)
        self.n_users, self.n_items, self.dim = int(data.n_users), int(data.n_items), int(dim)
        self.user_emb = nn.Embedding(self.n_users, self.dim)
        self.item_emb = nn.Embedding(self.n_items, self.dim)
        for emb in (self.user_emb, self.item_emb):
            if init_std is None:
                nn.init.xavier_normal_(emb.weight)
            else:
                nn.init.normal_(emb.weight, std=init_std)

    def encode_users(self, idx: torch.Tensor) -> torch.Tensor:
        return self.user_emb(idx)

    def encode_items(self, idx: torch.Tensor) -> torch.Tensor:
        return self.item_emb(idx)

    def all_items(self) -> torch.Tensor:
        return self.item_emb.weight
