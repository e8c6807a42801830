"""The dataset registry: ``causalrec.data.load(name, **options)``.

Entries are lazy: a name maps to ``"module:function"`` (imported on first load) plus an
optional :class:`~causalrec.data.fetch.Artefact` to fetch. Listing never imports a loader,
so ``causalrec-data list`` works even when an optional loader module is missing.

Built in: ``ml-100k``, ``obd``, ``recbole`` (any RecBole atomic folder, ``path=``),
``generated``, ``synthetic`` and ``ml-100k-semisynthetic`` (the simulator's). Add your own
with :func:`register`.
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


def fetch(name: str, force: bool = False, quiet: bool = False):
    """Fetch a dataset's artefact into the cache (no-op for generated datasets)."""
    from .fetcher import fetch as _fetch

    art = entry(name).resolve_artefact()
    if art is None:
        return None
    return _fetch(art, force=force, quiet=quiet)


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
