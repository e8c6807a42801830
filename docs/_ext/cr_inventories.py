"""Intersphinx inventories written offline from the installed packages.

The docs build must not touch the network, so Sphinx cannot fetch ``objects.inv`` from
pandas', PyTorch's, Lightning's, pgmpy's, Python's, NumPy's or OmegaConf's sites. Instead
this module walks the public names of the *installed* packages and writes a small inventory
per project (Sphinx's version-2 format: a header, then zlib-compressed ``name domain:role
priority uri dispname`` lines) into ``docs/_inventories/``, each entry pointing at the
project's public documentation URL. pandas, PyTorch, NumPy and Python pages follow their API
layouts; Lightning's main classes get their API pages; pgmpy and OmegaConf objects (whose
sites group many classes per page) link to that site's search for the name. An object is
listed under its public name and under ``module.qualname`` (how autodoc spells an evaluated
annotation), both with the same page.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import zlib
from pathlib import Path

#: project -> (documentation base URL, package whose version is recorded)
PROJECTS = {
    "pandas": ("https://pandas.pydata.org/docs/", "pandas"),
    "torch": ("https://docs.pytorch.org/docs/stable/", "torch"),
    "lightning": ("https://lightning.ai/docs/pytorch/stable/", "lightning"),
    "pgmpy": ("https://pgmpy.org/", "pgmpy"),
    "python": ("https://docs.python.org/3/", "sys"),
    "numpy": ("https://numpy.org/doc/stable/", "numpy"),
    "omegaconf": ("https://omegaconf.readthedocs.io/en/2.3_branch/", "omegaconf"),
}

# Lightning documents these under their defining subpackage, not lightning.pytorch
_LIGHTNING_PAGES = {
    "LightningModule": "lightning.pytorch.core.LightningModule",
    "LightningDataModule": "lightning.pytorch.core.LightningDataModule",
    "Trainer": "lightning.pytorch.trainer.trainer.Trainer",
    "Callback": "lightning.pytorch.callbacks.Callback",
    "seed_everything": "lightning.fabric.utilities.seed.seed_everything",
}


def _public(module, kinds=(inspect.isclass, inspect.isfunction, inspect.isbuiltin)):
    """``[(name, obj)]`` of a module's public classes and functions."""
    out = []
    for name in sorted(getattr(module, "__all__", None) or dir(module)):
        if name.startswith("_"):
            continue
        try:
            obj = getattr(module, name)
        except Exception:  # a lazy attribute that fails to load is simply not listed
            continue
        if any(kind(obj) for kind in kinds):
            out.append((name, obj))
    return out


def _role(obj) -> str:
    return "py:class" if inspect.isclass(obj) else "py:function"


def _entries_pandas():
    import pandas as pd

    rows = []
    for name, obj in _public(pd):
        rows.append((f"pandas.{name}", _role(obj), f"reference/api/pandas.{name}.html", obj))
    for cls in ("DataFrame", "Series", "Index"):
        for name, member in inspect.getmembers(getattr(pd, cls)):
            if not name.startswith("_") and callable(member):
                rows.append((f"pandas.{cls}.{name}", "py:method",
                             f"reference/api/pandas.{cls}.{name}.html", None))
    return rows


def _entries_torch():
    import torch

    rows = [("torch.Tensor", "py:class", "tensors.html#torch.Tensor", torch.Tensor)]
    for name, obj in _public(torch):
        if inspect.isclass(obj) and name != "Tensor" and not issubclass(obj, BaseException):
            continue  # dtypes, storages: no page of their own
        if name != "Tensor":
            rows.append((f"torch.{name}", _role(obj), f"generated/torch.{name}.html", obj))
    for module in ("torch.nn", "torch.nn.functional", "torch.optim", "torch.optim.lr_scheduler"):
        for name, obj in _public(importlib.import_module(module)):
            rows.append((f"{module}.{name}", _role(obj), f"generated/{module}.{name}.html", obj))
    for name, obj in _public(importlib.import_module("torch.utils.data")):
        rows.append((f"torch.utils.data.{name}", _role(obj), f"data.html#torch.utils.data.{name}",
                     obj))
    return rows


def _entries_lightning():
    import lightning.pytorch as lp

    rows = []
    for name, obj in _public(lp):
        page = _LIGHTNING_PAGES.get(name, f"lightning.pytorch.{name}")
        rows.append((f"lightning.pytorch.{name}", _role(obj), f"api/{page}.html", obj))
    for sub in ("callbacks", "loggers"):
        for name, obj in _public(importlib.import_module(f"lightning.pytorch.{sub}")):
            full = f"lightning.pytorch.{sub}.{name}"
            rows.append((full, _role(obj), f"api/{full}.html", obj))
    return rows


def _entries_pgmpy():
    rows = []
    for module in ("pgmpy.models", "pgmpy.inference", "pgmpy.factors.discrete",
                   "pgmpy.estimators", "pgmpy.base", "pgmpy.metrics"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        for name, obj in _public(mod, kinds=(inspect.isclass,)):
            rows.append((f"{module}.{name}", "py:class", f"search.html?q={name}", obj))
    return rows


#: standard-library modules whose public classes and functions are listed
_STDLIB = ("collections", "collections.abc", "os", "pathlib", "typing", "dataclasses",
           "contextlib", "numbers", "random", "json", "logging", "functools", "itertools")


def _entries_python():
    import builtins

    rows = []
    for name, obj in _public(builtins):
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            rows.append((name, "py:class", f"library/functions.html#{name}", None))
        elif inspect.isclass(obj):
            rows.append((name, "py:exception", f"library/exceptions.html#{name}", None))
        else:
            rows.append((name, "py:function", f"library/functions.html#{name}", None))
    rows.append(("os.PathLike", "py:class", "library/os.html#os.PathLike", None))
    for module in _STDLIB:
        for name, obj in _public(importlib.import_module(module)):
            full = f"{module}.{name}"
            rows.append((full, _role(obj), f"library/{module}.html#{full}", obj))
    return rows


def _entries_numpy():
    import numpy as np

    rows = [("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html", np.ndarray)]
    for name, obj in _public(np):
        if name != "ndarray":
            rows.append((f"numpy.{name}", _role(obj), f"reference/generated/numpy.{name}.html",
                         obj))
    for name, obj in _public(np.random, kinds=(inspect.isclass,)):
        rows.append((f"numpy.random.{name}", "py:class",
                     f"reference/random/generated/numpy.random.{name}.html", obj))
    return rows


def _entries_omegaconf():
    import omegaconf

    return [(f"omegaconf.{name}", "py:class", f"search.html?q={name}", obj)
            for name, obj in _public(omegaconf, kinds=(inspect.isclass,))]


_ENTRIES = {"pandas": _entries_pandas, "torch": _entries_torch,
            "lightning": _entries_lightning, "pgmpy": _entries_pgmpy,
            "python": _entries_python, "numpy": _entries_numpy,
            "omegaconf": _entries_omegaconf}


def inventory_lines(project: str) -> list[str]:
    """The uncompressed entry lines of one project's inventory, aliases included."""
    seen, lines = set(), []
    for name, role, uri, obj in _ENTRIES[project]():
        names = [name]
        qual = getattr(obj, "__qualname__", None)
        mod = getattr(obj, "__module__", None)
        if obj is not None and isinstance(qual, str) and isinstance(mod, str):
            names.append(f"{mod}.{qual}")
        for n in names:
            if (n, role) not in seen and " " not in n:
                seen.add((n, role))
                lines.append(f"{n} {role} 1 {uri} -")
    return lines


def inventory_bytes(project: str) -> bytes:
    """One project's ``objects.inv`` in Sphinx's version-2 format."""
    module = importlib.import_module(PROJECTS[project][1])
    version = getattr(module, "__version__", None) or ".".join(map(str, sys.version_info[:2]))
    header = ("# Sphinx inventory version 2\n"
              f"# Project: {project}\n"
              f"# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    body = ("\n".join(inventory_lines(project)) + "\n").encode()
    return header + zlib.compress(body, 9)


def write_inventories(out_dir: Path) -> dict[str, Path]:
    """Write ``<project>.inv`` for every project into ``out_dir``; ``{project: path}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for project in PROJECTS:
        path = out_dir / f"{project}.inv"
        data = inventory_bytes(project)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        paths[project] = path
    return paths


def intersphinx_mapping(inv_dir: Path) -> dict[str, tuple[str, str]]:
    """The ``intersphinx_mapping`` of ``conf.py``: public base URLs, local inventory files."""
    return {p: (url, str(inv_dir / f"{p}.inv")) for p, (url, _) in PROJECTS.items()}


