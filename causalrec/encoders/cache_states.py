"""The embedding cache for the frozen bottom of a fine-tuned language model.

With only the top N layers trained (fine-tuning or LoRA adapters), the token states entering
the first trainable layer depend only on frozen weights and the text, so they are computed
once per text and kept in the content-addressed cache of :mod:`causalrec.encoders.cache`:
:class:`TokenStateCache` stores a variable number of rows per text (one per token, the
attention mask being all ones over them), and :class:`FrozenBottom` holds a catalogue's
states in memory and runs only the top layers from them in each training step
(:func:`causalrec.encoders.layer_split.run_from`). The key holds the model identity (weight
and tokenizer hashes), the maximum length, the dtype and the layer index, so another model,
another N or another truncation addresses other shards. What is cached is the same as what
the full forward computes (the frozen layers run without dropout in both).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .cache import EmbeddingCache
from .layer_split import states_entering


class TokenStateCache(EmbeddingCache):
    """Per-text token states [T_i, H] under one key (see :class:`EmbeddingCache`).

    ``compute`` returns ``(flat [sum T_i, H], ptr [M + 1])`` for the missing texts, and
    :meth:`~causalrec.encoders.EmbeddingCache.get` returns the same form for the texts asked for, in their order.
    """

    def _block(self, result, n: int, dim: int | None) -> tuple[np.ndarray, np.ndarray]:
        flat, ptr = result
        flat = np.asarray(flat, dtype=np.float32)
        ptr = np.asarray(ptr, dtype=np.int64)
        if ptr.shape != (n + 1,) or ptr[0] != 0 or (np.diff(ptr) < 0).any():
            raise ValueError(f"compute returned row pointers of shape {ptr.shape}; expected "
                             f"[{n + 1}], starting at 0 and non-decreasing")
        if flat.ndim != 2 or len(flat) != ptr[-1]:
            raise ValueError(f"compute returned states of shape {flat.shape}; expected "
                             f"[{ptr[-1]}, dim]")
        if dim is not None and flat.shape[1] != dim:
            raise ValueError(f"compute returned dim {flat.shape[1]}, expected {dim}")
        return flat, ptr

    @staticmethod
    def _shard_offsets(shard: dict) -> np.ndarray:
        return np.asarray(shard["offsets"], dtype=np.int64)

    def _gather(self, manifest: dict, index: dict, hashes: list[str],
                dim: int | None) -> tuple[np.ndarray, np.ndarray]:
        d = manifest.get("dim") or dim or 0
        offsets = {s["file"]: self._shard_offsets(s) for s in manifest["shards"]}
        where = [index[h] for h in hashes]
        lengths = [int(offsets[f][r + 1] - offsets[f][r]) for f, r in where]
        ptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        out = np.empty((int(ptr[-1]), d), dtype=np.float32)
        arrays = {f: np.load(self.dir / f, mmap_mode="r", allow_pickle=False)
                  for f in {f for f, _ in where}}
        for i, (f, r) in enumerate(where):
            out[ptr[i]:ptr[i + 1]] = arrays[f][offsets[f][r]:offsets[f][r + 1]]
        return out, ptr


def state_key(text_model) -> dict:
    """The cache key of ``text_model``'s states entering its first trainable layer."""
    identity = {k: v for k, v in text_model.identity.items() if k != "pooling"}
    return {**identity, "kind": "token_states", "layer": int(text_model.frozen_layers)}


def layer_states(text_model, ids: Sequence[Sequence[int]], layer: int,
                 progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The token states entering layer ``layer`` of ``text_model`` (a
    :class:`~causalrec.encoders.transformer.TextModel`) for each token-id list, without
    gradients, in evaluation mode, batched like its ``embed``: (flat float32 [sum of
    lengths, H], row pointers [N + 1]); text ``i`` owns rows ``ptr[i]:ptr[i + 1]``, one per
    token (no padding)."""
    from tqdm.auto import tqdm

    tm = text_model
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    ptr = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.empty((int(ptr[-1]), tm.dim), dtype=np.float32)
    order = np.argsort(-lengths, kind="stable")
    left = tm.tokenizer.padding_side == "left"
    was_training = tm.model.training
    tm.model.eval()
    show = progress if progress is not None else tm.progress
    with torch.inference_mode():
        for sl in tqdm(tm._batches(lengths[order]), desc=f"token states before layer {layer}",
                       unit="batch", disable=not show):
            rows = order[sl]
            inputs = tm._inputs(*tm.collate([ids[i] for i in rows]))
            states = states_entering(tm.model, layer, **inputs).float().cpu().numpy()
            width = states.shape[1]
            for b, i in enumerate(rows):
                n = lengths[i]
                flat[ptr[i]:ptr[i + 1]] = states[b, width - n:] if left else states[b, :n]
    if was_training:
        tm.train(True)  # back to training, the frozen layers in evaluation mode
    return flat, ptr


class FrozenBottom(nn.Module):
    """Token states entering the first trainable layer of ``text_model``, per side (``item``,
    ``user``), read from (or written to) a :class:`TokenStateCache` under ``root``.

    The states are buffers that follow the module's device but are not saved state (a
    restored encoder runs the full forward). They take ``tokens x hidden size x 4`` bytes
    per text in memory and on disk (about 170 kB for a 110-token MiniLM text, 30 kB for a
    20-token title). ``stats[side]`` is what the cache did for that side.
    """

    def __init__(self, text_model, root, verify: bool = True, progress: bool | None = None):
        super().__init__()
        if not text_model.frozen_layers:
            raise ValueError("no frozen layers to cache: every layer of the model is trained")
        self.layer = int(text_model.frozen_layers)
        self.cache = TokenStateCache(root, state_key(text_model), verify=verify)
        self.progress = progress
        self.stats: dict = {}
        self.sides: set[str] = set()
        self.__dict__["_text_model"] = text_model  # not a submodule: the encoder owns it

    def add(self, side: str, texts: list[str], ids: list[list[int]]) -> None:
        """States for ``texts`` (tokenized as ``ids``), appended to ``side``'s rows."""
        tm = self.__dict__["_text_model"]
        by_text = dict(zip(texts, ids, strict=True))
        flat, ptr = self.cache.get(
            texts, lambda missing: layer_states(tm, [by_text[t] for t in missing], self.layer,
                                                self.progress), dim=tm.dim)
        got, want = np.diff(ptr), np.array([len(x) for x in ids])
        if (got != want).any():
            i = int(np.flatnonzero(got != want)[0])
            raise ValueError(f"the token-state cache {self.cache.dir} holds {got[i]} states for "
                             f"{side} text {i} ({texts[i]!r:.60}), which has {want[i]} tokens")
        self.stats[side] = self.cache.stats
        flat, ptr = torch.from_numpy(flat), torch.from_numpy(ptr)
        if side in self.sides:  # extend: new rows after the existing ones
            old_flat, old_ptr = getattr(self, f"{side}_states"), getattr(self, f"{side}_ptr")
            flat = torch.cat([old_flat, flat.to(old_flat.device)])
            ptr = torch.cat([old_ptr, ptr[1:].to(old_ptr.device) + old_ptr[-1]])
        self.register_buffer(f"{side}_states", flat, persistent=False)
        self.register_buffer(f"{side}_ptr", ptr, persistent=False)
        self.sides.add(side)

    def padded(self, side: str, rows: list[int], left: bool) -> torch.Tensor:
        """States of ``rows`` padded with zeros to [B, T, H] on the ``left`` or right, as
        :meth:`~causalrec.encoders.transformer.TextModel.collate` pads their token ids."""
        flat, ptr = getattr(self, f"{side}_states"), getattr(self, f"{side}_ptr").tolist()
        lengths = [ptr[r + 1] - ptr[r] for r in rows]
        width = max(lengths)
        out = flat.new_zeros((len(rows), width, flat.shape[1]))
        for b, (r, n) in enumerate(zip(rows, lengths, strict=True)):
            (out[b, width - n:] if left else out[b, :n]).copy_(flat[ptr[r]:ptr[r] + n])
        return out
