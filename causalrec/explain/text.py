"""Text evidence: the user's own review sentences and the item's text spans that are closest
in the intent space of the recommender's text encoder.

Each sentence of the user's text is embedded on the user side and compared (cosine) with the
item's whole text on the item side; each span of the item's text (sentences, then clauses
split at commas) is compared with the user's whole text. The space is the language model's
(centred) sentence-embedding space that the text encoder projects from
(:meth:`causalrec.encoders.text.TextIntentEncoder.text_vectors`), so the evidence is what
the encoder itself reads (cf. "explanations as retrieved evidence", e.g. Li et al. 2021,
"Personalized transformer for explainable recommendation"). Without a text encoder there is
no text evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


@dataclass
class TextEvidence:
    """Top user sentences and item spans with their cosine similarities."""

    user_sentences: list = field(default_factory=list)   # (sentence, similarity)
    item_spans: list = field(default_factory=list)       # (span, similarity)

    def __str__(self) -> str:
        us = "; ".join(f"\"{s}\" ({c:.2f})" for s, c in self.user_sentences)
        it = "; ".join(f"\"{s}\" ({c:.2f})" for s, c in self.item_spans)
        return f"the user wrote {us}; the item says {it}"


def text_encoder(rec):
    """The recommender's first encoder that embeds text (``text_vectors``), or None."""
    for _, mod in rec.head.named_modules():
        if callable(getattr(mod, "text_vectors", None)):
            return mod
    return None


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text or "") if s.strip()]


def spans(text: str) -> list[str]:
    out = []
    for s in sentences(text):
        parts = [p.strip(" ,.") for p in s.split(",") if p.strip(" ,.")]
        out.extend(parts if len(parts) > 1 else [s])
    return list(dict.fromkeys(out))


def _cos(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a = torch.nn.functional.normalize(a.float(), dim=-1)
    b = torch.nn.functional.normalize(b.float(), dim=-1)
    return a @ b.reshape(-1)


def text_evidence(rec, user_text: str | None, item_text: str | None,
                  n: int = 3) -> TextEvidence | None:
    """The ``n`` closest user sentences and item spans, or None without a text encoder or
    without text on either side."""
    enc = text_encoder(rec)
    if enc is None or not user_text or not item_text:
        return None
    if not isinstance(user_text, str) or not isinstance(item_text, str):
        raise TypeError("user_text and item_text must be strings")
    # an encoder that never read user texts (users by history or ID) has no user-side
    # centring: embed the user's sentences like item texts, in the same space
    user_side = "user" if hasattr(enc, "user_center") else "item"
    with torch.no_grad():
        u_sent = sentences(user_text)
        i_span = spans(item_text)
        whole_item = enc.text_vectors([item_text], "item")[0]
        whole_user = enc.text_vectors([user_text], user_side)[0]
        s_sim = _cos(enc.text_vectors(u_sent, user_side), whole_item) if u_sent else None
        p_sim = _cos(enc.text_vectors(i_span, "item"), whole_user) if i_span else None
    out = TextEvidence()
    if s_sim is not None:
        top = torch.argsort(s_sim, descending=True)[:n].tolist()
        out.user_sentences = [(u_sent[j], float(s_sim[j])) for j in top]
    if p_sim is not None:
        top = torch.argsort(p_sim, descending=True)[:n].tolist()
        out.item_spans = [(i_span[j], float(p_sim[j])) for j in top]
    return out
