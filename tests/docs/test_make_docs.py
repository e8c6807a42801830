"""``make docs`` is wired as documented: it installs the ``docs`` extra into the venv and
runs Sphinx on docs/ into docs/_build/html with warnings as errors and nitpicky (every
cross-reference must resolve, with only named, justified exceptions); every Sphinx extension
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
    assert re.search(r"\s-n\s", command), "make docs is not nitpicky"
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


def conf_assignments() -> dict:
    """The literal values assigned at the top level of docs/conf.py (read, not imported:
    importing it writes the inventories)."""
    tree = ast.parse((DOCS / "conf.py").read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def test_nitpicky_with_no_exceptions():
    """conf.py itself is nitpicky (a plain sphinx-build is as strict as make docs) and
    ignores no name and no pattern: every cross-reference must resolve."""
    conf = conf_assignments()
    assert conf.get("nitpicky") is True
    assert "nitpick_ignore_regex" not in conf
    assert conf.get("nitpick_ignore", []) == []
