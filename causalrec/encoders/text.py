"""The text intent encoder: a language model reads each user's and item's text.

Two modes (Hou et al. 2022, UniSRec, and Ding et al. 2021, "Zero-shot recommender systems",
use the frozen one; fine-tuning the top layers follows Yuan et al. 2023, "Where to go next for
recommender systems? ID- vs. modality-based recommender models revisited"):

* **frozen** (``trainable_layers: 0``, the default): every text is embedded once through the
  content-addressed :class:`~causalrec.encoders.cache.EmbeddingCache`; a trainable linear
  projection maps the embeddings to the head's dimension ``dim``.
* **fine-tuned** (``trainable_layers: N``): the top N transformer layers are unfrozen and the
  texts of a batch are encoded inside the training step (the tokenized texts are kept, so
  only the model runs per step); the projection is trained with them. With a cache
  directory, the token states entering the first trained layer (which depend only on frozen
  weights) are cached per text (:class:`~causalrec.encoders.cache_states.FrozenBottom`), and
  a step runs only the top N layers.

Items are always represented by their text, which is what lets the encoder score items that
never appear in training (cold start). Users are represented by their own text (``users:
text``), by the mean text embedding of their training items (``users: history``), or by a
learned ID embedding (``users: id``), or by the recency-weighted mean embedding of their own
training interactions' texts (``users: reviews``: each row's review, else the consumed item's
title, :func:`causalrec.data.text_views.interaction_texts`; frozen mode).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .base import Encoder, as_interaction_data, is_restoring
from .cache import EmbeddingCache
from .cache_states import FrozenBottom
from .transformer import TextModel

USER_MODES = ("text", "history", "id", "reviews")


def require_text(data, side: str) -> list[str]:
    """``data.user_text`` / ``data.item_text``, or a clear error naming the dataset."""
    text = getattr(data, f"{side}_text", None)
    if text is None:
        raise ValueError(
            f"dataset {getattr(data, 'name', '?')!r} (source {getattr(data, 'source', '?')}) has "
            f"no {side}_text; a text encoder needs one text per {side}. Build the data with a "
            f"text view (item/user text from templates), or use encoder=id"
            + ("/users: id or users: history" if side == "user" else ""))
    n = data.n_users if side == "user" else data.n_items
    if len(text) != n:
        raise ValueError(f"dataset {data.name!r}: {side}_text has {len(text)} entries for {n} "
                         f"{side}s")
    bad = [i for i, t in enumerate(text) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"dataset {data.name!r}: {side}_text entries {bad[:5]} are not strings "
                         f"(e.g. {text[bad[0]]!r})")
    return list(text)


class TextIntentEncoder(Encoder):
    """User/item representations from a transformers language model.

    Args:
        data: training InteractionData (``item_text`` required, ``user_text`` for
            ``users: text``).
        dim: output dimension (a trainable linear projection); ``None`` keeps the model's
            hidden size and uses no projection.
        model, pooling, normalize, max_length, batch_size, device, dtype, padding_side, trust_remote_code, allow_download, revision: see :class:`TextModel`.
        trainable_layers: 0 = frozen (cached embeddings); N > 0 = fine-tune the top N layers.
        users: ``text``, ``history``, ``id`` or ``reviews`` (see the module docstring).
        cache_dir: embedding cache directory (``None``: no cache, encode in memory).
        template_version: version of the text templates that produced the texts; part of the
            cache key (``None``: ``data.meta["text_template_version"]``, set by the
            datamodule's text views, else ``data.meta["text_version"]``, set by a loader's item
            text, else ``"unversioned"``).
        verify_cache: check shard checksums before trusting them.
        progress: progress bars while loading and encoding (``None``: for long jobs; the
            encoder configs pass ``trainer.enable_progress_bar``).
        center: frozen mode: subtract the mean text vector of each side (all item texts; all
            user texts) before the projection. Sentence embeddings of texts from one template
            share a large common component that dominates dot products; removing it is the
            first step of "all-but-the-top" (Mu & Viswanath 2018). With a trained projection
            it is a reparametrisation (the bias absorbs it); for ``dim: null`` (zero-shot
            scoring) it sharpens the ranking considerably.
        review_items, recency_decay: ``users: reviews``: the latest ``review_items`` training
            interactions of a user, weighted ``recency_decay ** rank`` (rank 0: the latest).
        lora: with ``trainable_layers: N``, train LoRA adapters (``r``, ``alpha``,
            ``dropout``, ``target_modules``; :meth:`TextModel.add_lora`) on the top N layers
            instead of their weights.
    """

    def __init__(self, data, dim: int | None = 64, model: str = "minilm",
                 pooling: str = "mean", normalize: bool = True, max_length: int | None = None,
                 batch_size: int = 64, device: str | None = "auto", dtype: str | None = "auto",
                 padding_side: str | None = None, trust_remote_code: bool = False,
                 allow_download: bool = False, revision: str | None = None,
                 trainable_layers: int = 0, users: str = "text",
                 cache_dir: str | os.PathLike | None = None, template_version: str | None = None,
                 verify_cache: bool = True, progress: bool | None = None, center: bool = True,
                 review_items: int = 20, recency_decay: float = 0.8, lora: dict | None = None):
        super().__init__()
        data = as_interaction_data(data)
        if users not in USER_MODES:
            raise ValueError(f"users must be one of {USER_MODES}, not {users!r}")
        self.n_users, self.n_items = int(data.n_users), int(data.n_items)
        self.users_mode = users
        self.trainable_layers = int(trainable_layers)
        if users == "reviews" and self.trainable_layers:
            raise ValueError("users: reviews embeds each interaction text once through the "
                             "cache; it needs trainable_layers: 0")
        restoring = is_restoring()  # a shell for a checkpoint: no texts, nothing to embed
        item_text = None if restoring else require_text(data, "item")
        user_text = require_text(data, "user") if users == "text" and not restoring else None
        #: what rebuilds the language model at inference (new users' and items' texts)
        self.text_model_config = dict(
            model=model, pooling=pooling, normalize=normalize, max_length=max_length,
            batch_size=batch_size, device=device, dtype=dtype, padding_side=padding_side,
            trust_remote_code=trust_remote_code, allow_download=allow_download,
            revision=revision)
        text_model = TextModel(**self.text_model_config, progress=progress)
        self.text_dim = text_model.dim
        self.dim = int(dim) if dim else self.text_dim
        self.proj = nn.Linear(self.text_dim, self.dim) if dim else nn.Identity()
        if template_version is None:
            meta = getattr(data, "meta", None) or {}
            template_version = meta.get("text_template_version",
                                        meta.get("text_version", "unversioned"))
        self.cache_key = {**text_model.identity, "normalize": bool(normalize),
                          "template_version": str(template_version)}
        self.cache = EmbeddingCache(cache_dir, self.cache_key, verify=verify_cache) \
            if cache_dir and not restoring else None
        self.cache_stats: dict = {}
        self.center = bool(center)
        empty = torch.zeros((0, self.text_dim))

        if self.trainable_layers > 0:
            self.text_model = text_model
            if lora:  # LoRA adapters on the top trainable_layers, the weights frozen
                text_model.add_lora(self.trainable_layers, **dict(lora))
            else:
                text_model.set_trainable_layers(self.trainable_layers)
            # the states entering the first trained layer come from frozen weights: cached
            self.bottom = FrozenBottom(text_model, self.cache.root, verify_cache, progress) \
                if self.cache is not None and text_model.frozen_layers else None
            # token ids are saved state (flat ids + row pointers): new texts need the model,
            # the catalogue's texts do not
            for side, texts in (("item", item_text), ("user", user_text)):
                if side == "user" and users != "text":
                    continue
                ids = text_model.tokenize(texts) if texts is not None else []
                flat, ptr = _pack(ids)
                self.register_buffer(f"{side}_tokens", flat)
                self.register_buffer(f"{side}_token_ptr", ptr)
                if self.bottom is not None:
                    self.bottom.add(side, texts, ids)
                    self.cache_stats[f"{side} token states"] = self.bottom.stats[side]
        else:
            self.text_model, self.bottom = None, None  # frozen: no language model here
            # the centring means (Mu & Viswanath 2018) are saved state: a new user's or
            # item's text vector is centred with the training mean of its side
            sides = [("item", item_text)] + ([("user", user_text)] if users == "text" else [])
            if users == "reviews":
                sides.append(("user", None if restoring else
                              self._review_users(text_model, data, review_items, recency_decay,
                                                 progress)))
            for side, texts in sides:
                if isinstance(texts, torch.Tensor):  # users: reviews, already pooled
                    mean = texts.mean(0) if self.center else torch.zeros(self.text_dim)
                    self.register_buffer("user_text_emb", texts - mean)
                    self.register_buffer("user_center", mean)
                    continue
                if texts is None:  # restoring: filled by load_state_dict
                    self.register_buffer(f"{side}_text_emb", empty.clone())
                    self.register_buffer(f"{side}_center", torch.zeros(self.text_dim))
                    continue
                emb = torch.from_numpy(self._embed(text_model, texts, f"{side} texts",
                                                   progress))
                mean = emb.mean(0) if self.center else torch.zeros(self.text_dim)
                self.register_buffer(f"{side}_text_emb", emb - mean)
                self.register_buffer(f"{side}_center", mean)
            del text_model
        if users == "id":
            self.user_emb = nn.Embedding(self.n_users, self.dim)
            nn.init.xavier_normal_(self.user_emb.weight)
        if users == "history":
            if restoring:
                ptr, items = torch.zeros(self.n_users + 1, dtype=torch.long), empty.long()[:, 0]
            else:
                ptr, items = _histories(data)
            self.register_buffer("hist_ptr", ptr)
            self.register_buffer("hist_items", items)
        self._eval_items: torch.Tensor | None = None

    def _review_users(self, text_model, data, max_items, decay, progress) -> torch.Tensor:
        """Recency-weighted mean text vector of each user's own training interactions."""
        from ..data.text_views import interaction_texts

        texts, users, weights = interaction_texts(data, max_items, decay)
        unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
        emb = self._embed(text_model, list(unique), "interaction texts", progress)
        out = np.zeros((self.n_users, emb.shape[1]))
        np.add.at(out, users, emb[inverse] * weights[:, None])
        return torch.from_numpy(out).float()

    def _embed(self, text_model: TextModel, texts: list[str], what: str,
               progress: bool | None) -> np.ndarray:
        def compute(missing: list[str]) -> np.ndarray:
            return text_model.embed(missing, progress=progress, desc=f"encoding {what}")

        if self.cache is None:
            return compute(texts)
        vectors = self.cache.get(texts, compute, dim=self.text_dim)
        self.cache_stats[what] = self.cache.stats
        return vectors

    # ------------------------------------------------------------------ text vectors
    def _text_vectors(self, side: str, idx: torch.Tensor) -> torch.Tensor:
        """Language-model vectors [B, text_dim] of users' or items' texts (before projection)."""
        if self.text_model is None:
            return getattr(self, f"{side}_text_emb")[idx]
        flat, ptr = getattr(self, f"{side}_tokens"), getattr(self, f"{side}_token_ptr").tolist()
        rows = idx.detach().cpu().tolist()
        unique = list(dict.fromkeys(rows))
        input_ids, mask = self.text_model.collate(
            [flat[ptr[r]:ptr[r + 1]].tolist() for r in unique])
        states = None  # cached: only the trained top layers run
        if self.bottom is not None and side in self.bottom.sides:
            states = self.bottom.padded(side, unique,
                                        self.text_model.tokenizer.padding_side == "left")
        grad = torch.is_grad_enabled() and self.training
        with torch.set_grad_enabled(grad):
            vec = self.text_model(input_ids, mask, states)
        pos = {r: i for i, r in enumerate(unique)}
        return vec[torch.as_tensor([pos[r] for r in rows], device=vec.device)].to(idx.device)

    def _all_item_vectors(self) -> torch.Tensor:
        if self.text_model is None:
            return self.item_text_emb
        tm = self.text_model
        out = []
        for start in range(0, self.n_items, tm.batch_size):
            idx = torch.arange(start, min(start + tm.batch_size, self.n_items))
            out.append(self._text_vectors("item", idx))
        return torch.cat(out)

    # ------------------------------------------------------------------ encoder contract
    def encode_items(self, idx: torch.Tensor) -> torch.Tensor:
        if self._eval_items is not None and not self.training:
            return self._eval_items[idx]
        return self.proj(self._text_vectors("item", idx))

    def encode_users(self, idx: torch.Tensor) -> torch.Tensor:
        if self.users_mode == "id":
            return self.user_emb(idx)
        if self.users_mode == "history":
            return self._history_users(idx)
        return self.proj(self._text_vectors("user", idx))  # text, reviews

    def _history_users(self, idx: torch.Tensor) -> torch.Tensor:
        """Mean projected text vector of each user's training items (zeros without any)."""
        rows = idx.detach().cpu()
        starts, ends = self.hist_ptr.cpu()[rows], self.hist_ptr.cpu()[rows + 1]
        hist = self.hist_items.cpu()
        flat = torch.cat([hist[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
                         + [hist[:0]])
        offsets = torch.cat([torch.zeros(1, dtype=torch.long), (ends - starts).cumsum(0)[:-1]])
        if self.text_model is not None and not self.training:
            table, local = self.all_items(), flat  # fine-tuned, evaluating: encoded once
        elif len(flat):
            unique, local = torch.unique(flat, return_inverse=True)
            table = self.proj(self._text_vectors("item", unique.to(idx.device)))
        else:
            table, local = torch.zeros((1, self.dim), device=idx.device), flat
        out = nn.functional.embedding_bag(local.to(table.device), table,
                                          offsets.to(table.device), mode="mean")
        return out.to(idx.device)

    def all_items(self) -> torch.Tensor:
        if self.text_model is None or self.training:
            return self.proj(self._all_item_vectors())
        if self._eval_items is None:  # fine-tuned, evaluating: weights are fixed, encode once
            with torch.no_grad():
                self._eval_items = self.proj(self._all_item_vectors())
        return self._eval_items

    def train(self, mode: bool = True):
        self._eval_items = None  # weights may change: drop the evaluation-time cache
        return super().train(mode)

    # ------------------------------------------------------------------ new texts
    def language_model(self) -> TextModel:
        """The language model that embeds new texts: the fine-tuned one, or (frozen mode)
        the configured model, rebuilt on first use and checked against the identity the
        catalogue's vectors were made with."""
        if self.text_model is not None:
            return self.text_model
        model = self.__dict__.get("_new_text_model")
        if model is None:
            model = TextModel(**self.text_model_config)
            if model.identity["model"] != self.cache_key["model"]:
                raise ValueError(
                    f"text model {self.text_model_config['model']!r} now has identity "
                    f"{model.identity['model']}, but this encoder's vectors were made with "
                    f"{self.cache_key['model']}: new texts would land in another space")
            self.__dict__["_new_text_model"] = model  # not a submodule: not saved state
        return model

    def text_vectors(self, texts: Sequence[str], side: str) -> torch.Tensor:
        """Language-model vectors [N, text_dim] of new ``texts`` for ``side`` (``user`` or
        ``item``), centred like the training texts of that side (before projection)."""
        texts = _check_texts(texts)
        model = self.language_model()
        if self.text_model is not None:
            flat, ptr = _pack(model.tokenize(texts))
            ids = [flat[ptr[r]:ptr[r + 1]].tolist() for r in range(len(texts))]
            with torch.no_grad():
                return model(*model.collate(ids)).cpu()
        vec = torch.from_numpy(model.embed(texts, progress=False))
        return vec - getattr(self, f"{side}_center").cpu()

    def users_from_text(self, texts: Sequence[str],
                        users: torch.Tensor | None = None) -> torch.Tensor:
        if self.users_mode not in ("text", "reviews"):
            raise ValueError(f"this text encoder represents users by {self.users_mode!r}, not "
                             "by their text; a user known only by text needs users: text")
        with torch.no_grad():
            return self.proj(self.text_vectors(texts, "user").to(self.proj_device()))

    @property
    def folds_in_users(self) -> bool:
        return self.users_mode == "id"

    def users_from_items(self, histories: Sequence[Sequence[int]]) -> torch.Tensor | None:
        if self.users_mode != "history":
            return None
        with torch.no_grad():
            table = self.all_items()
            rows = [table[torch.as_tensor(list(h), dtype=torch.long, device=table.device)]
                    .mean(0) if len(h) else torch.zeros(self.dim, device=table.device)
                    for h in histories]
        return torch.stack(rows) if rows else torch.zeros((0, self.dim))

    def extend_items(self, texts: Sequence[str]) -> None:
        if self.text_model is not None:
            ids = self.text_model.tokenize(_check_texts(texts))
            if self.bottom is not None:
                self.bottom.add("item", list(texts), ids)
            flat, ptr = _pack(ids)
            self.item_tokens = torch.cat([self.item_tokens, flat.to(self.item_tokens.device)])
            self.item_token_ptr = torch.cat(
                [self.item_token_ptr, ptr[1:].to(self.item_token_ptr.device)
                 + self.item_token_ptr[-1]])
        else:
            vec = self.text_vectors(texts, "item").to(self.item_text_emb.device)
            self.item_text_emb = torch.cat([self.item_text_emb, vec])
        self.n_items += len(texts)
        self._eval_items = None

    def proj_device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("expected a list of texts, not one string")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ValueError(f"texts {bad[:5]} are empty or not strings (e.g. {texts[bad[0]]!r}); "
                         "every new user or item needs a non-empty text")
    return texts


def _pack(ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Ragged token-id lists as (flat ids, row pointers) tensors, a savable form."""
    lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    flat = torch.tensor([t for x in ids for t in x], dtype=torch.long)
    return flat, ptr


def _histories(data) -> tuple[torch.Tensor, torch.Tensor]:
    """Each user's distinct positive training items in CSR form (pointer, item indices)."""
    m = data.csr(positive_only=True)
    return (torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)))
