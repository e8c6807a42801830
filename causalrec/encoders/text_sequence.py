"""Sequential text encoder after UniSRec: frozen item text -> whitening MoE adaptor -> SASRec.

Hou, Mu, Zhao, Li, Ding and Wen 2022, "Towards Universal Sequence Representation Learning for
Recommender Systems" (KDD, UniSRec): items are represented by the frozen language-model
embedding of their text; a *parametric whitening* per expert, ``(x - b_k) W_k``, and a
mixture-of-experts gate ``softmax(x G)`` adapt it to the recommendation space (their Eq.
1-3); a causal transformer over the user's item sequence gives the user state. Without item
IDs (``item_ids: false``, their inductive setting) every item, old or new, is scored from its
text alone; ``item_ids: true`` adds a learned ID embedding (their transductive setting).

The item texts are embedded once through the embedding cache by a frozen
:class:`~causalrec.encoders.TextIntentEncoder` (all its model options apply); the sequence
model and its masking are :class:`~causalrec.encoders.SequenceEncoder`'s (Kang and McAuley
2018), with its item table replaced by the adapted text vectors. Everything trained is small
(the adaptor, the transformer), so it trains on CPU at ml-100k scale.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import as_interaction_data
from .sequence import SequenceEncoder
from .text import TextIntentEncoder


class WhiteningMoE(nn.Module):
    """UniSRec's MoE adaptor: ``sum_k softmax(x G)_k * ((x - b_k) W_k)`` (Hou et al. 2022,
    Eq. 1-3), with a dropout on the input text vector."""

    def __init__(self, text_dim: int, dim: int, experts: int = 8, dropout: float = 0.2):
        super().__init__()
        if experts < 1:
            raise ValueError(f"experts must be >= 1, got {experts}")
        self.bias = nn.Parameter(torch.zeros(experts, text_dim))     # b_k
        self.weight = nn.Parameter(torch.empty(experts, text_dim, dim))  # W_k
        nn.init.normal_(self.weight, std=text_dim ** -0.5)
        self.gate = nn.Linear(text_dim, experts, bias=False)          # G
        nn.init.zeros_(self.gate.weight)  # equal experts at the start
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(x)
        experts = torch.einsum("bkt,ktd->bkd", x.unsqueeze(1) - self.bias, self.weight)
        g = torch.softmax(self.gate(x), dim=-1)
        return (g.unsqueeze(-1) * experts).sum(1)


class _TextItemTable(nn.Module):
    """Item index -> adapted text vector (+ optional ID embedding); the padding index -> 0.
    Stands in for SequenceEncoder's item embedding table."""

    def __init__(self, text_emb: torch.Tensor, n_items: int, dim: int, experts: int,
                 dropout: float, item_ids: bool):
        super().__init__()
        self.n_items = int(n_items)  # (a shell being restored has no text vectors yet)
        self.register_buffer("text_emb", text_emb)
        self.adaptor = WhiteningMoE(text_emb.shape[1], dim, experts, dropout)
        self.ids = nn.Embedding(self.n_items, dim) if item_ids else None
        if self.ids is not None:
            nn.init.normal_(self.ids.weight, std=dim ** -0.5)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        pad = idx >= self.n_items
        safe = idx.masked_fill(pad, 0)
        out = self.adaptor(self.text_emb[safe.reshape(-1)]).reshape(*idx.shape, -1)
        if self.ids is not None:
            out = out + self.ids(safe)
        return out.masked_fill(pad.unsqueeze(-1), 0.0)

    def all(self) -> torch.Tensor:
        return self(torch.arange(self.n_items, device=self.text_emb.device))


class TextSequenceEncoder(SequenceEncoder):
    """UniSRec-style encoder: a causal transformer over adapted frozen item-text vectors.

    Args:
        data: training InteractionData with ``item_text``; sequences as in SequenceEncoder.
        dim, max_len, layers, heads, dropout: the sequence model (see SequenceEncoder).
        experts: adaptor experts; adaptor_dropout: dropout on the text vectors.
        item_ids: add a learned item ID embedding (transductive) or not (inductive).
        text: options of the frozen :class:`~causalrec.encoders.TextIntentEncoder` that
            embeds the item texts (``model``, ``cache_dir``, ``center``, ...).
    """

    def __init__(self, data, dim: int = 64, max_len: int = 50, layers: int = 2,
                 heads: int = 1, dropout: float = 0.2, experts: int = 8,
                 adaptor_dropout: float = 0.2, item_ids: bool = False,
                 text: dict | None = None):
        data = as_interaction_data(data)
        super().__init__(data, dim=dim, max_len=max_len, layers=layers, heads=heads,
                         dropout=dropout)
        opts = {**(text or {}), "dim": None, "users": "history", "trainable_layers": 0}
        frozen = TextIntentEncoder(data, **opts)
        self.cache_stats = dict(frozen.cache_stats)
        self.text_dim = frozen.text_dim
        self.item_emb = _TextItemTable(frozen.item_text_emb.clone(), self.n_items, self.dim,
                                       int(experts),
                                       float(adaptor_dropout), bool(item_ids))

    def encode_items(self, idx: torch.Tensor) -> torch.Tensor:
        return self.item_emb(idx)

    def all_items(self) -> torch.Tensor:
        return self.item_emb.all()
