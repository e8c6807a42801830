"""Every notebook runs top to bottom with small parameters, shows at least one figure, is
committed without outputs, and matches its jupytext .py pair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs_and_paired(nb):
    import jupytext

    data = json.loads(nb.read_text())
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, \
                f"{nb.name} has outputs committed"
    assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in data["cells"]), \
        f"{nb.name} has no papermill 'parameters' cell"
    pair = nb.with_suffix(".py")
    assert pair.exists(), f"{nb.name} has no jupytext .py pair"
    a = jupytext.read(nb)
    b = jupytext.read(pair)
    src = [(c.cell_type, c.source.strip()) for c in a.cells]
    assert src == [(c.cell_type, c.source.strip()) for c in b.cells], \
        f"{nb.name} and {pair.name} differ: run `jupytext --sync {pair}`"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_and_shows_a_figure(nb, tmp_path, monkeypatch):
    import papermill as pm

    monkeypatch.setenv("CAUSALREC_OUTPUT", str(tmp_path / "outputs"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    out = tmp_path / nb.name
    pm.execute_notebook(str(nb), str(out), parameters={"QUICK": True}, cwd=str(tmp_path),
                        kernel_name="python3", progress_bar=False, execution_timeout=600)
    executed = json.loads(out.read_text())
    images = [o for c in executed["cells"] for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, f"{nb.name} produced no figure"
