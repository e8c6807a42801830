"""Hybrid encoder: text and ID representations combined by a learned gate.

For a user or item with text vector t and ID embedding e (both projected to ``dim``), the
representation is ``g * t + (1 - g) * e`` with a per-dimension gate
``g = sigmoid(W [t; e] + b)``: the gated multimodal unit of Arevalo et al. 2017, "Gated
Multimodal Units for Information Fusion", as used for ID + content fusion in hybrid
recommenders. The gate lets well-observed entities lean on their ID embedding while
cold ones (no interactions, an untrained ID row) can lean on text.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .base import Encoder, as_interaction_data
from .id import IDEncoder
from .text import TextIntentEncoder


class HybridEncoder(Encoder):
    """Gated fusion of a :class:`TextIntentEncoder` and an :class:`IDEncoder`.

    Args:
        data: training InteractionData.
        dim: output size (text projection and ID embeddings both use it).
        text: keyword arguments for the :class:`TextIntentEncoder` (``dim`` is set here).
        init_std: ID embedding initialisation (see :class:`IDEncoder`).
        gate_bias: initial gate bias; 0 starts at an even mix, > 0 favours text.
    """

    def __init__(self, data, dim: int = 64, text: dict | None = None,
                 init_std: float | None = None, gate_bias: float = 0.0):
        super().__init__()
        data = as_interaction_data(data)
        text = dict(text or {})
        text.pop("_target_", None)
        text["dim"] = dim
        self.text = TextIntentEncoder(data, **text)
        self.ids = IDEncoder(data, dim=dim, init_std=init_std)
        self.n_users, self.n_items, self.dim = self.text.n_users, self.text.n_items, int(dim)
        self.user_gate = nn.Linear(2 * self.dim, self.dim)
        self.item_gate = nn.Linear(2 * self.dim, self.dim)
        for gate in (self.user_gate, self.item_gate):
            nn.init.zeros_(gate.weight)
            nn.init.constant_(gate.bias, gate_bias)

    @staticmethod
    def fuse(gate: nn.Linear, t: torch.Tensor, e: torch.Tensor) -> tuple[torch.Tensor,
                                                                          torch.Tensor]:
        """(fused representation, gate values), both [B, dim]."""
        g = torch.sigmoid(gate(torch.cat([t, e], dim=-1)))
        return g * t + (1 - g) * e, g

    def gate_values(self, side: str, idx: torch.Tensor) -> torch.Tensor:
        """The gate g (weight on text) for users or items ``idx``: [B, dim] in (0, 1)."""
        if side == "user":
            return self.fuse(self.user_gate, self.text.encode_users(idx),
                             self.ids.encode_users(idx))[1]
        if side == "item":
            return self.fuse(self.item_gate, self.text.encode_items(idx),
                             self.ids.encode_items(idx))[1]
        raise ValueError(f"side must be 'user' or 'item', not {side!r}")

    def encode_users(self, idx: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.user_gate, self.text.encode_users(idx), self.ids.encode_users(idx))[0]

    def encode_items(self, idx: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.item_gate, self.text.encode_items(idx), self.ids.encode_items(idx))[0]

    def all_items(self) -> torch.Tensor:
        return self.fuse(self.item_gate, self.text.all_items(), self.ids.all_items())[0]

    # ------------------------------------------------------------------ inference hooks
    def users_from_text(self, texts: Sequence[str],
                        users: torch.Tensor | None = None) -> torch.Tensor:
        """Text part from ``texts``; ID part from the known ``users``, or for new users the
        mean trained user embedding (a population prior: an untrained row would be noise)."""
        t = self.text.users_from_text(texts)
        with torch.no_grad():
            if users is None:
                e = self.ids.user_emb.weight.mean(0, keepdim=True).expand(len(t), -1)
            else:
                e = self.ids.encode_users(torch.as_tensor(users, dtype=torch.long))
            return self.fuse(self.user_gate, t.to(e.device), e)[0]

    def extend_items(self, texts: Sequence[str]) -> None:
        """New items: text part from ``texts``, ID part the mean trained item embedding."""
        n = len(texts)
        self.text.extend_items(texts)
        with torch.no_grad():
            w = self.ids.item_emb.weight
            grown = torch.cat([w, w.mean(0, keepdim=True).expand(n, -1)])
        self.ids.item_emb = nn.Embedding.from_pretrained(grown, freeze=False)
        self.ids.n_items += n
        self.n_items += n
