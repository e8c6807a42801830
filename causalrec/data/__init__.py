"""Data: schema and validation, RecBole atomic files, the dataset registry and fetchers
(``load("ml-100k")``, ``load("obd")``), split protocols, text views, the LightningDataModule.

Heavy pieces (torch, Lightning) load on first use.
"""

from __future__ import annotations

from ..lazy_exports import lazy_exports
from .schema import DataValidationError, InteractionData

_LAZY = {
    "CausalRecDataModule": ("datamodule", "CausalRecDataModule"),
    "Split": ("splits", "Split"),
    "make_split": ("splits", "make_split"),
    "random_split": ("splits", "random_split"),
    "generate_interactions": ("generated", "generate_interactions"),
    "PROTOCOLS": ("splits", "PROTOCOLS"),
    "temporal_split": ("splits", "temporal_split"),
    "random_exposure_split": ("splits", "random_exposure_split"),
    "intervened_split": ("splits", "intervened_split"),
    "cold_start_split": ("splits", "cold_start_split"),
    "split_fingerprint": ("splits", "split_fingerprint"),
    "load": ("registry", "load"),
    "register": ("registry", "register"),
    "fetch": ("registry", "fetch"),
    "info": ("registry", "info"),
    "datasets": ("registry", "names"),
    "read_atomic": ("atomic_files", "read_atomic"),
    "write_atomic": ("atomic_files", "write_atomic"),
    "load_atomic_dataset": ("recbole_dataset", "load_atomic_dataset"),
    "load_ml100k": ("movielens", "load_ml100k"),
    "load_obd": ("obd", "load_obd"),
    "TextTemplates": ("text_views", "TextTemplates"),
    "build_text_views": ("text_views", "build_text_views"),
    "item_texts": ("text_views", "item_texts"),
    "user_texts": ("text_views", "user_texts"),
    "FetchError": ("fetcher", "FetchError"),
}

__all__ = ["DataValidationError", "InteractionData", *_LAZY]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
