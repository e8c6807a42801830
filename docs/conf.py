"""Sphinx configuration of the causalrec documentation (``make docs``).

Built offline with warnings as errors. Generated at build time (see ``docs/_ext/``): the API
pages from the packages' export tables (``cr_api``), one page per config group from
``conf/`` (``cr_configs``), the tutorial copies of the numbered notebooks (``cr_tutorials``)
and the intersphinx inventories of pandas, PyTorch, Lightning, pgmpy, Python and NumPy from
the installed packages (``cr_inventories``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from cr_inventories import intersphinx_mapping as _mapping  # noqa: E402
from cr_inventories import write_inventories  # noqa: E402

import causalrec  # noqa: E402

project = "causalrec"
author = "causalrec developers"
copyright = "causalrec developers"
release = version = causalrec.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "myst_nb",
    "cr_api",
    "cr_configs",
    "cr_tutorials",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "_inventories", "_ext", "_templates", ".gitignore", "README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# --- autodoc / autosummary / napoleon (Google-style docstrings)
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_inherit_docstrings = False   # torch's own docstrings are not ours to render
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autoclass_content = "both"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# --- every cross-reference must resolve (make docs passes -n too; -W makes a miss an error).
# Only a name that no inventory can list may be ignored, each with its reason:
nitpicky = True
nitpick_ignore = []  # no exceptions: tests/docs/test_make_docs.py keeps it empty

# --- intersphinx, offline: inventories written from the installed packages
write_inventories(HERE / "_inventories")
intersphinx_mapping = _mapping(HERE / "_inventories")
intersphinx_timeout = 1

# --- MyST / myst-nb: notebooks are rendered, never executed here
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# --- HTML
html_theme = "furo"
html_title = f"causalrec {release}"
html_static_path: list[str] = []
