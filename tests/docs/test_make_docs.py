"""``make docs`` is wired as documented: it installs the ``docs`` extra into the venv and
runs Sphinx on docs/ into docs/_build/html with warnings as errors; every Sphinx extension
``docs/conf.py`` loads is either Sphinx's own, one of docs/_ext, or in the ``docs`` extra."""

from __future__ import annotations

import ast
import re

import tomllib

from .conftest import DOCS

ROOT = DOCS.parent


def test_make_docs_target_builds_with_warnings_as_errors():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^docs: (.*)\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "Makefile has no docs target"
    command = recipe.group(2)
    assert "sphinx" in command and "-W" in command and "--keep-going" in command
    assert re.search(r"\bdocs docs/_build/html\b", command)
    stamp = recipe.group(1).split()[0].strip("$()")
    install = re.search(rf"^\$\({stamp}\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert install and '".[docs]"' in install.group(1)
    assert "docs/_build/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_every_extension_is_available_from_the_docs_extra():
    conf = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    extensions = next(ast.literal_eval(n.value) for n in ast.walk(conf)
                      if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") ==
                      "extensions")
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    docs_extra = {re.split(r"[<>=!~ ]", r)[0].lower().replace("_", "-")
                  for r in extra["project"]["optional-dependencies"]["docs"]}
    local = {p.stem for p in (DOCS / "_ext").glob("*.py")}
    for ext in extensions:
        top = ext.split(".")[0]
        assert top == "sphinx" or ext in local or top.replace("_", "-") in docs_extra, ext
