"""The encoder contract: ``encode_users(idx) -> [B, d]`` and ``encode_items(idx) -> [B, d]``.

An encoder owns ``n_users``, ``n_items`` and ``dim`` and keeps everything it needs at
inference in its saved state (``state_dict``: parameters and persistent buffers), so a
trained encoder is rebuilt from its config plus a checkpoint without its training texts
(see :func:`restoring_state`). Two hooks serve the Recommender (:mod:`causalrec.recommend`):

* :meth:`Encoder.override_users` substitutes representations for some user indices (users
  updated after training, or virtual indices ``>= n_users`` for users known only by text)
  while a head scores; every subclass's ``encode_users`` honours it automatically.
* :meth:`Encoder.users_from_text`, :meth:`Encoder.users_from_items` and
  :meth:`Encoder.extend_items` represent users and items that training never saw; an encoder
  that cannot (an ID table has no text path) raises naming itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Sequence

import torch
from torch import nn

_RESTORING = contextvars.ContextVar("causalrec_encoder_restoring", default=False)


@contextlib.contextmanager
def restoring_state() -> Iterator[None]:
    """Encoders built inside this block are shells whose state comes from a checkpoint.

    A text encoder then neither requires nor embeds texts: it registers empty text buffers
    that ``load_state_dict`` (after :func:`adopt_buffer_shapes`) fills with the saved ones.
    """
    token = _RESTORING.set(True)
    try:
        yield
    finally:
        _RESTORING.reset(token)


def is_restoring() -> bool:
    """Whether encoders are being built as shells for a saved state."""
    return _RESTORING.get()


def adopt_buffer_shapes(module: nn.Module, state: dict) -> None:
    """Resize ``module``'s buffers to the shapes in ``state`` (a ``state_dict``), so that
    ``load_state_dict`` can fill buffers whose size depends on the training data (the text
    vectors, histories and sequences of a shell built under :func:`restoring_state`)."""
    for name, buf in list(module.named_buffers()):
        saved = state.get(name)
        if buf is None or saved is None or saved.shape == buf.shape:
            continue
        owner_name, _, attr = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        owner._buffers[attr] = torch.empty(saved.shape, dtype=saved.dtype, device=buf.device)


def as_interaction_data(data):
    """The training data as an :class:`~causalrec.data.InteractionData`.

    ``hydra.utils.instantiate(cfg.encoder, data=train)`` turns the InteractionData dataclass
    into a DictConfig; this turns it back, so encoders work however they were built (the
    clean way is :func:`causalrec.encoders.build_encoder`, which never converts it)."""
    try:
        from omegaconf import DictConfig, OmegaConf
    except ImportError:  # pragma: no cover
        return data
    if isinstance(data, DictConfig):
        return OmegaConf.to_object(data)
    return data


def _honour_override(encode_users):
    """Wrap a subclass's ``encode_users`` so that overridden user indices get their
    substituted rows (differentiably) and never reach the wrapped method."""

    @functools.wraps(encode_users)
    def wrapper(self, idx: torch.Tensor) -> torch.Tensor:
        override = self.__dict__.get("_user_override")
        if override is None:
            return encode_users(self, idx)
        keys, rows = override
        pos = torch.searchsorted(keys, idx).clamp(max=len(keys) - 1)
        hit = keys[pos] == idx
        if bool(hit.all()):
            return rows[pos]
        if not bool(hit.any()):
            return encode_users(self, idx)
        plain, subst = torch.nonzero(~hit).flatten(), torch.nonzero(hit).flatten()
        out = torch.cat([encode_users(self, idx[plain]), rows[pos[subst]].to(rows.dtype)])
        return out[torch.argsort(torch.cat([plain, subst]))]

    wrapper._honours_override = True
    return wrapper


class Encoder(nn.Module):
    """Base class of intent encoders.

    Subclasses set ``self.n_users``, ``self.n_items`` and ``self.dim`` and implement
    :meth:`encode_users` / :meth:`encode_items`. Every encoder is built as
    ``Encoder(data=<train InteractionData>, **config)`` so a new encoder is one class plus
    one YAML file in ``conf/encoder/``.
    """

    n_users: int
    n_items: int
    dim: int

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fn = cls.__dict__.get("encode_users")
        if fn is not None and not getattr(fn, "_honours_override", False):
            cls.encode_users = _honour_override(fn)

    def encode_users(self, idx: torch.Tensor) -> torch.Tensor:
        """Representations ``[len(idx), dim]`` of the users with indices ``idx`` (a long
        tensor); indices given to :meth:`override_users` get their substituted rows."""
        raise NotImplementedError

    def encode_items(self, idx: torch.Tensor) -> torch.Tensor:
        """Representations ``[len(idx), dim]`` of the items with indices ``idx``."""
        raise NotImplementedError

    def all_items(self) -> torch.Tensor:
        """Representations of every item, [n_items, d] (used for full ranking)."""
        device = next(self.parameters()).device
        return self.encode_items(torch.arange(self.n_items, device=device))

    # ------------------------------------------------------------------ inference hooks
    @contextlib.contextmanager
    def override_users(self, users: torch.Tensor, rows: torch.Tensor) -> Iterator[None]:
        """Within the block, ``encode_users`` returns ``rows[j]`` for user index
        ``users[j]`` (indices may be ``>= n_users``: virtual users) and the trained
        representation for every other index. ``rows`` may require grad (fold-in)."""
        users = torch.as_tensor(users, dtype=torch.long).reshape(-1)
        if rows.shape != (len(users), self.dim):
            raise ValueError(f"override rows must be [{len(users)}, {self.dim}], got "
                             f"{tuple(rows.shape)}")
        if len(users) == 0:
            yield
            return
        keys, order = torch.sort(users)
        if bool((keys[1:] == keys[:-1]).any()):
            raise ValueError("override_users got duplicate user indices")
        previous = self.__dict__.get("_user_override")
        self.__dict__["_user_override"] = (keys, rows[order])
        try:
            yield
        finally:
            self.__dict__["_user_override"] = previous

    def users_from_text(self, texts: Sequence[str],
                        users: torch.Tensor | None = None) -> torch.Tensor:
        """Representations [len(texts), dim] of users described by ``texts``: new users
        (``users=None``) or the known ``users`` whose text changed (an encoder that also
        keeps per-user parameters, e.g. the hybrid's ID part, keeps theirs)."""
        raise ValueError(f"{type(self).__name__} cannot represent a user from text (it has no "
                         "text path for users); use a text encoder with users: text, or a "
                         "hybrid encoder")

    @property
    def folds_in_users(self) -> bool:
        """Whether a user's representation is a free vector that new interactions update
        by a fold-in (ID embeddings); ``False`` when it is computed from something else
        (the user's text), which then only changes with new text."""
        return True

    def users_from_items(self, histories: Sequence[Sequence[int]]) -> torch.Tensor | None:
        """Representations of users given their item histories (item indices, oldest
        first), or ``None`` when this encoder's users are free vectors that a fold-in must
        fit (ID embeddings)."""
        return None

    def extend_items(self, texts: Sequence[str]) -> None:
        """Append items described by ``texts`` to the catalogue (``n_items`` grows)."""
        raise ValueError(f"{type(self).__name__} cannot represent a new item from text; new "
                         "items need a text or hybrid encoder")
