"""Sequence encoder: causal self-attention over a user's last N training items (SASRec).

Kang & McAuley 2018, "Self-Attentive Sequential Recommendation" (ICDM): item embeddings plus
learned position embeddings pass through pre-norm transformer blocks whose attention is
causally masked (position t sees positions <= t only); the state at the last position is the
user's representation, scored against the same (shared) item embedding table.

Within causalrec's (user, item) training batches the user state summarises the user's whole
training sequence (so a training target is among the attended items, as the last-position
state of SASRec's next-item objective is not used here); at evaluation the held-out items are
never in the sequence, which is built from the training split only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .base import Encoder, as_interaction_data, is_restoring


class _Block(nn.Module):
    """Pre-norm self-attention block with a point-wise feed-forward layer (SASRec sec. III-B)."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout),
                                nn.Linear(dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor, blocked: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x)
        a, _ = self.attn(h, h, h, attn_mask=blocked, need_weights=False)
        x = x + a
        return x + self.ff(self.norm2(x))


class SequenceEncoder(Encoder):
    """SASRec-style user encoder over the last ``max_len`` training items of each user.

    Args:
        data: training InteractionData; a user's sequence is their positive training
            interactions ordered by ``timestamp`` (table order when there is none).
        dim: embedding size; heads / layers: attention heads and blocks; dropout: dropout rate.
        max_len: N, the number of most recent training items attended over.
    """

    def __init__(self, data, dim: int = 64, max_len: int = 50, layers: int = 2, heads: int = 1,
                 dropout: float = 0.2):
        super().__init__()
        data = as_interaction_data(data)
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        self.n_users, self.n_items, self.dim = int(data.n_users), int(data.n_items), int(dim)
        self.max_len = int(max_len)
        self.pad = self.n_items  # padding index
        self.item_emb = nn.Embedding(self.n_items + 1, self.dim, padding_idx=self.pad)
        self.pos_emb = nn.Embedding(self.max_len, self.dim)
        nn.init.normal_(self.item_emb.weight, std=self.dim ** -0.5)
        with torch.no_grad():
            self.item_emb.weight[self.pad].zero_()
        self.dropout = nn.Dropout(dropout)
        self.heads = int(heads)
        self.blocks = nn.ModuleList(_Block(self.dim, self.heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(self.dim)
        # each user's last max_len training items are saved state: scoring needs no data
        seqs = (torch.full((self.n_users, self.max_len), self.pad, dtype=torch.long)
                if is_restoring() else user_sequences(data, self.max_len, self.pad))
        self.register_buffer("sequences", seqs)

    def forward_sequence(self, seq: torch.Tensor) -> torch.Tensor:
        """States [B, L, d] of left-padded item sequences [B, L] (pad = ``n_items``);
        position t depends only on items at positions <= t."""
        B, L = seq.shape
        if L > self.max_len:
            raise ValueError(f"sequence length {L} exceeds max_len={self.max_len}")
        real = seq != self.pad
        x = self.item_emb(seq) * self.dim ** 0.5
        x = x + self.pos_emb(torch.arange(self.max_len - L, self.max_len, device=seq.device))
        x = self.dropout(x) * real.unsqueeze(-1)
        future = torch.ones(L, L, dtype=torch.bool, device=seq.device).triu(1)
        blocked = future.unsqueeze(0) | ~real.unsqueeze(1)  # [B, L(query), L(key)]
        # a padding query would see no key at all (NaN); let it see itself, output is zeroed
        blocked = blocked & ~torch.eye(L, dtype=torch.bool, device=seq.device)
        blocked = blocked.repeat_interleave(self.heads, dim=0)
        for block in self.blocks:
            x = block(x, blocked) * real.unsqueeze(-1)
        return self.norm(x) * real.unsqueeze(-1)

    def encode_users(self, idx: torch.Tensor) -> torch.Tensor:
        return self.forward_sequence(self.sequences[idx])[:, -1]

    def encode_items(self, idx: torch.Tensor) -> torch.Tensor:
        return self.item_emb(idx)

    def all_items(self) -> torch.Tensor:
        return self.item_emb.weight[: self.n_items]

    def users_from_items(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        """States after each history's last ``max_len`` items (oldest first)."""
        seq = torch.full((len(histories), self.max_len), self.pad, dtype=torch.long,
                         device=self.sequences.device)
        for row, h in enumerate(histories):
            last = [int(i) for i in list(h)[-self.max_len:]]
            if last:
                seq[row, self.max_len - len(last):] = torch.as_tensor(last)
        with torch.no_grad():
            return self.forward_sequence(seq)[:, -1]


def user_sequences(data, max_len: int, pad: int) -> torch.Tensor:
    """[n_users, max_len] left-padded last ``max_len`` positive training items per user,
    oldest first (by ``timestamp`` when present, else table order)."""
    df = data.positives()
    order = ["user", "timestamp"] if "timestamp" in df.columns else ["user"]
    df = df.assign(_row=np.arange(len(df))).sort_values(order + ["_row"], kind="stable")
    users = df["user"].to_numpy()
    items = df["item"].to_numpy()
    out = np.full((data.n_users, max_len), pad, dtype=np.int64)
    bounds = np.flatnonzero(np.diff(users)) + 1
    for chunk_users, chunk_items in zip(np.split(users, bounds), np.split(items, bounds),
                                        strict=True):
        if len(chunk_users):
            last = chunk_items[-max_len:]
            out[chunk_users[0], max_len - len(last):] = last
    return torch.from_numpy(out)
