"""Data: schema and validation, your own DataFrames and files (``from_frame``,
``load("table")``), preprocessing with a removal report, RecBole atomic files, the dataset
registry and fetchers (``load("ml-100k")``, ``load("obd")``), the public debiasing datasets
from your files (``load("coat")``, ``load("yahoo_r3")``, ``load("kuairec")``), split
protocols, text views (reviews included), the LightningDataModule.

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
    "AtomicTable": ("atomic_files", "AtomicTable"),
    "write_atomic": ("atomic_files", "write_atomic"),
    "load_atomic_dataset": ("recbole_dataset", "load_atomic_dataset"),
    "load_ml100k": ("movielens", "load_ml100k"),
    "load_obd": ("obd", "load_obd"),
    "TextTemplates": ("text_views", "TextTemplates"),
    "build_text_views": ("text_views", "build_text_views"),
    "item_texts": ("text_views", "item_texts"),
    "interaction_texts": ("text_views", "interaction_texts"),
    "user_texts": ("text_views", "user_texts"),
    "FetchError": ("fetcher", "FetchError"),
    "from_frame": ("frame", "from_frame"),
    "raw_to_index": ("frame", "raw_to_index"),
    "index_to_raw": ("frame", "index_to_raw"),
    "load_table": ("table", "load_table"),
    "read_table": ("table", "read_table"),
    "Preprocess": ("preprocess", "Preprocess"),
    "preprocess_data": ("preprocess", "preprocess_data"),
    "preprocess_report": ("preprocess", "preprocess_report"),
    "load_coat": ("public", "load_coat"),
    "load_yahoo_r3": ("public", "load_yahoo_r3"),
    "load_kuairec": ("public", "load_kuairec"),
    "write_coat_sample": ("public", "write_coat_sample"),
}

__all__ = ["DataValidationError", "InteractionData", *_LAZY]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
