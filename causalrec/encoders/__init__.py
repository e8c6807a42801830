"""Intent encoders: ID, text (transformers), sequence and hybrid encoders, the embedding
cache and intent clustering. Classes load lazily on first access."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY = {
    "Encoder": ("base", "Encoder"),
    "build_encoder": ("build", "build_encoder"),
    "IDEncoder": ("id", "IDEncoder"),
    "TextIntentEncoder": ("text", "TextIntentEncoder"),
    "SequenceEncoder": ("sequence", "SequenceEncoder"),
    "TextSequenceEncoder": ("text_sequence", "TextSequenceEncoder"),
    "WhiteningMoE": ("text_sequence", "WhiteningMoE"),
    "HybridEncoder": ("hybrid", "HybridEncoder"),
    "TextModel": ("transformer", "TextModel"),
    "EmbeddingCache": ("cache", "EmbeddingCache"),
    "NonFiniteEmbeddingError": ("cache", "NonFiniteEmbeddingError"),
    "TokenStateCache": ("cache_states", "TokenStateCache"),
    "FrozenBottom": ("cache_states", "FrozenBottom"),
    "pool": ("pooling", "pool"),
    "resolve_model": ("model_ref", "resolve_model"),
    "ResolvedModel": ("model_ref", "ResolvedModel"),
    "ModelNotAvailableError": ("model_ref", "ModelNotAvailableError"),
    "cluster_intents": ("intent_clusters", "cluster_intents"),
    "project_2d": ("intent_clusters", "project_2d"),
    "IntentClusters": ("intent_clusters", "IntentClusters"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
