"""Text-view templates: what a dataset's item and user texts say (``TextTemplates``).

Kept apart from the rendering (:mod:`causalrec.data.text_views`) so that code which only
describes a dataset - :func:`causalrec.data.frame.from_frame` stores a dataset's templates
in its metadata - does not import the renderer.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field

from .schema import DataValidationError

TEMPLATE_VERSION = "text-v1"


@dataclass(frozen=True)
class TextTemplates:
    """Templates for item and user text.

    Attributes:
        item: format string over item feature columns plus ``item_id``.
        user: format string over user feature columns plus ``user_id``, ``history`` (the
            ``history_field`` of up to ``history_items`` training items, most recent first,
            joined by ``history_separator``) and ``n_history`` (the user's training count).
        history_items: how many training items the user text lists.
        history_field: item feature shown in the history (``item_id`` when absent).
        values: per-field value maps, e.g. ``{"gender": {"M": "man", "F": "woman"}}``.
        seq_separator: how sequence-valued features (e.g. genres) are joined.
        empty_history: what ``history`` says for a user without training items.
        review_items: how many of the latest training reviews ``{reviews}`` lists (per user
            in the user template, per item in the item template).
        review_separator: how the reviews are joined.
        empty_reviews: what ``reviews`` says when there is no training review.
        declared_version: bump when the rendering code changes meaning.
    """

    item: str = "{item_id}"
    user: str = "User {user_id}. Recent items: {history}."
    history_items: int = 10
    history_field: str = "title"
    history_separator: str = "; "
    values: dict = field(default_factory=dict)
    seq_separator: str = ", "
    empty_history: str = "none"
    review_items: int = 5
    review_separator: str = " | "
    empty_reviews: str = "none"
    declared_version: str = TEMPLATE_VERSION

    @classmethod
    def from_config(cls, cfg: dict | TextTemplates | None) -> TextTemplates:
        if cfg is None:
            return cls()
        if isinstance(cfg, TextTemplates):
            return cfg
        cfg = dict(cfg)
        if "version" in cfg:
            cfg["declared_version"] = cfg.pop("version")
        unknown = set(cfg) - set(cls.__dataclass_fields__)
        if unknown:
            raise DataValidationError(f"unknown text template keys {sorted(unknown)}; known: "
                                      f"{sorted(cls.__dataclass_fields__)}", column="text")
        cfg["values"] = {k: dict(v) for k, v in dict(cfg.get("values") or {}).items()}
        return cls(**cfg)

    def version(self) -> str:
        """Declared version + a hash of everything that changes the rendered text."""
        key = (self.item, self.user, self.history_items, self.history_field,
               self.history_separator, sorted((k, sorted(v.items())) for k, v
                                              in self.values.items()),
               self.seq_separator, self.empty_history)
        if self.uses_reviews():  # templates without reviews keep their earlier versions
            key += (self.review_items, self.review_separator, self.empty_reviews)
        h = hashlib.sha256(repr(key).encode())
        return f"{self.declared_version}-{h.hexdigest()[:12]}"

    def uses_reviews(self) -> bool:
        return any(f in ("reviews", "n_reviews") for f in _fields(self.item) + _fields(self.user))


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]
