"""The numbered notebooks as tutorial pages.

Sphinx reads sources only under ``docs/``, so each committed, output-free
``notebooks/NN_name.ipynb`` is copied to ``docs/tutorials/NN_name.ipynb`` at build time with
one cell added after its title saying how to run it. myst-nb renders the copies with
execution off (``nb_execution_mode = "off"``): the pages show the code and prose, and the
outputs come from running the notebook (the test suite runs each one in QUICK mode).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cr_api import write_if_changed

NOTEBOOK = re.compile(r"^\d\d_\w+\.ipynb$")


def how_to_run(name: str) -> str:
    """The Markdown of the note added to a tutorial page."""
    stem = name.removesuffix(".ipynb")
    return (
        "```{note}\n"
        f"This page is the committed notebook `notebooks/{name}`, shown without outputs "
        "(the docs build does not execute notebooks). To run it: `make lab` and open it, or "
        f"`.venv/bin/jupyter nbconvert --to notebook --execute notebooks/{name}`. Its source "
        f"is the jupytext pair `notebooks/{stem}.py`. The test suite runs it with "
        "`QUICK = True` in its parameters cell (small sizes, about a minute); the committed "
        "value runs the full study.\n```\n")


def tutorial_notebook(path: Path) -> dict:
    """The notebook at ``path`` with the how-to-run note as its second cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    note = {"cell_type": "markdown", "id": "causalrec-docs-how-to-run", "metadata": {},
            "source": how_to_run(path.name).splitlines(keepends=True)}
    cells = nb.get("cells", [])
    first_is_title = bool(cells) and cells[0].get("cell_type") == "markdown" and \
        "".join(cells[0].get("source", "")).lstrip().startswith("# ")
    at = 1 if first_is_title else 0
    nb["cells"] = cells[:at] + [note] + cells[at:]
    return nb


def notebooks(notebook_dir: Path) -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(p for p in notebook_dir.glob("*.ipynb") if NOTEBOOK.match(p.name))


def write_tutorials(notebook_dir: Path, out_dir: Path) -> list[Path]:
    """Copy every numbered notebook into ``out_dir`` with its note; returns the copies."""
    out = []
    for path in notebooks(notebook_dir):
        target = out_dir / path.name
        write_if_changed(target, json.dumps(tutorial_notebook(path), indent=1,
                                            ensure_ascii=False) + "\n")
        out.append(target)
    for stale in out_dir.glob("*.ipynb"):
        if stale not in out:
            stale.unlink()
    return out


def _on_config_inited(app, config) -> None:
    src = Path(app.srcdir)
    write_tutorials(src.parent / "notebooks", src / "tutorials")


def setup(app):
    app.connect("config-inited", _on_config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
