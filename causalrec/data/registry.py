"""The dataset registry: ``causalrec.data.load(name, **options)``.

Entries are lazy: a name maps to ``"module:function"`` (imported on first load) plus an
optional :class:`~causalrec.data.fetch.Artefact` to fetch. Listing never imports a loader,
so ``causalrec-data list`` works even when an optional loader module is missing.

Built in: ``ml-100k``, ``obd``, ``recbole`` (any RecBole atomic folder, ``path=``),
``table`` (your CSV / Parquet / JSON Lines file, ``path=``, ``columns=``), the public
debiasing datasets from files you have (``coat``, ``yahoo_r3``, ``kuairec``, ``path=``),
``memory`` (an InteractionData handed to ``cr.experiment.run(data=...)``), ``generated``,
``synthetic`` and ``ml-100k-semisynthetic`` (the simulator's). Add your own with
:func:`register`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from .schema import DataValidationError


@dataclass(frozen=True)
class Entry:
    name: str
    target: str | Callable
    description: str = ""
    artefact: str | None = None  # "module:ATTRIBUTE" naming an Artefact to fetch

    def resolve(self) -> Callable:
        if callable(self.target):
            return self.target
        mod, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(mod), attr)

    def resolve_artefact(self):
        if self.artefact is None:
            return None
        mod, _, attr = self.artefact.partition(":")
        return getattr(importlib.import_module(mod), attr)


_REGISTRY: dict[str, Entry] = {}


def register(name: str, target: str | Callable, description: str = "",
             artefact: str | None = None, overwrite: bool = False) -> None:
    """Register a loader: ``target`` is a callable or ``"package.module:function"``."""
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"dataset {name!r} is already registered (pass overwrite=True)")
    _REGISTRY[name] = Entry(name, target, description, artefact)


def entry(name: str) -> Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise DataValidationError(f"unknown dataset {name!r}; registered: "
                                  f"{', '.join(sorted(_REGISTRY))}") from None


def names() -> list[str]:
    return sorted(_REGISTRY)


def load(name: str, **options):
    """Load a registered dataset as :class:`~causalrec.data.InteractionData`.

    Examples: ``load("ml-100k")``, ``load("ml-100k", threshold=4)``,
    ``load("obd", policy="random", campaign="all")``, ``load("recbole", path="ds/yelp")``.
    """
    e = entry(name)
    try:
        fn = e.resolve()
    except (ImportError, AttributeError) as err:
        raise DataValidationError(f"dataset {name!r} is registered to {e.target!r}, which is "
                                  f"not available: {err}") from err
    return fn(**options)


#: InteractionData held in this process, by key (see :func:`remember`)
_MEMORY: dict = {}


def remember(data) -> str:
    """Hold ``data`` (an InteractionData) in this process so a config can name it:
    ``load("memory", key=remember(data))``. The key is the start of its fingerprint."""
    from .schema import InteractionData

    if not isinstance(data, InteractionData):
        raise DataValidationError(f"data must be an InteractionData (build one with "
                                  f"InteractionData.from_frame), got {type(data).__name__}")
    key = data.fingerprint()[:16]
    _MEMORY[key] = data
    return key


def load_memory(key: str):
    """The InteractionData :func:`remember` holds under ``key``."""
    try:
        return _MEMORY[str(key)]
    except KeyError:
        raise DataValidationError(
            f"no in-memory dataset {key!r} in this process: in-memory data lives only in the "
            "process that called cr.experiment.run(data=...); pass the data again",
            column="dataset.source.key") from None


def fetch(name: str, force: bool = False, quiet: bool = False):
    """Fetch a dataset's artefact into the cache (no-op for generated datasets)."""
    from .fetcher import fetch_artefact

    art = entry(name).resolve_artefact()
    if art is None:
        return None
    return fetch_artefact(art, force=force, quiet=quiet)


def info(name: str) -> dict:
    """Description, loader, availability, artefact and cache state of a dataset."""
    from .fetcher import FetchError, cache_root, verified_path

    e = entry(name)
    out = {"name": name, "description": e.description,
           "loader": e.target if isinstance(e.target, str) else repr(e.target)}
    try:
        fn = e.resolve()
        out["available"] = True
        doc = (fn.__doc__ or "").strip().splitlines()
        out["doc"] = doc[0] if doc else ""
    except (ImportError, AttributeError) as err:
        out["available"] = False
        out["error"] = f"{type(err).__name__}: {err}"
    art = e.resolve_artefact()
    if art is not None:
        out["artefact"] = art.requirement
        out["cache"] = str(cache_root() / art.name)
        try:
            verified_path(art)
            out["cached"] = True
        except FetchError as err:
            out["cached"] = False
            if (cache_root() / art.name).exists():
                out["cache_error"] = str(err)
        out["files"] = sorted(art.local_name(m) for m in art.members)
    return out


register("ml-100k", "causalrec.data.movielens:load_ml100k",
         "MovieLens-100K ratings + titles/genres + demographics (RecBole atomic files)",
         artefact="causalrec.data.movielens:ARTEFACT")
register("obd", "causalrec.data.obd:load_obd",
         "Open Bandit Dataset sample (ZOZOTOWN; random/bts policies, all/men/women)",
         artefact="causalrec.data.obd:ARTEFACT")
register("recbole", "causalrec.data.recbole_dataset:load_atomic_dataset",
         "any RecBole atomic dataset folder (path=..., dataset=...)")
register("generated", "causalrec.data.generated:generate_interactions",
         "small generated latent-factor implicit feedback (smoke runs)")
register("synthetic", "causalrec.sim.simulation:load_synthetic",
         "causal simulator: data generated from a declared causal graph")
register("ml-100k-semisynthetic", "causalrec.sim.semisynthetic:load_semisynthetic",
         "semi-synthetic ml-100k with simulated exposure/outcomes")
register("ml-100k-uplift", "causalrec.sim.uplift:load_uplift",
         "semi-synthetic uplift protocol on ml-100k (Sato et al.): both potential outcomes known")
register("table", "causalrec.data.table:load_table",
         "your interactions from a CSV / Parquet / JSON Lines file (path=..., columns=...)")
register("memory", load_memory,
         "an InteractionData held in this process (cr.experiment.run(data=...))")
register("coat", "causalrec.data.public:load_coat",
         "Coat (Schnabel et al. 2016) from your files: biased train + randomized test ratings")
register("yahoo_r3", "causalrec.data.public:load_yahoo_r3",
         "Yahoo! R3 from your files: user-selected train + randomly selected test ratings")
register("kuairec", "causalrec.data.public:load_kuairec",
         "KuaiRec from your files: big_matrix logs + fully observed small_matrix")
