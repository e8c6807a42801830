"""causalrec: causal inference for recommender systems with language-model intent encoders.

``import causalrec as cr`` is cheap: subpackages (and the heavy libraries they use: torch,
transformers, pgmpy, wandb) load on first attribute access, e.g. ``cr.data.load(...)``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_SUBMODULES = ("data", "graphs", "sim", "encoders", "heads", "evaluation", "models", "ope",
               "recommend", "explain", "privacy", "experiment")

__all__ = ["__version__", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover
    from . import (  # noqa: F401
        data,
        encoders,
        evaluation,
        experiment,
        graphs,
        heads,
        models,
        ope,
        sim,
    )


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'causalrec' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
