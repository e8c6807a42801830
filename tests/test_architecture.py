"""The layout of ../shared/DESIGN.md holds: the layer contracts in pyproject.toml (checked
with import-linter), no file in causalrec/ over 450 lines, and no `utils` module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layer_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "broken" in out.stdout and " 0 broken" in out.stdout


def test_no_utils_modules():
    assert not [p for p in (ROOT / "causalrec").rglob("*util*.py")]


def test_no_file_in_the_package_is_over_450_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "causalrec").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 450}
    assert not long, f"split these by idea: {long}"
