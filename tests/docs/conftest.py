"""Shared pieces of the docs tests: the repository's docs folder and a runner that follows a
Markdown page literally (its files written, its Python blocks executed in order)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"

# ```python  /  ```{code-block} yaml  followed by :option: lines
FENCE = re.compile(r"^```(\{code-block\}\s*)?(?P<lang>\w+)[^\n]*\n(?P<body>.*?)^```\s*$",
                   re.MULTILINE | re.DOTALL)
OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")


def page_blocks(text: str) -> list[tuple[str, str | None, str]]:
    """``[(language, caption or None, code)]`` of every fenced block of a MyST page, in
    order; a ``{code-block}`` block's ``:caption:`` names the file it shows."""
    out = []
    for m in FENCE.finditer(text):
        lines = m.group("body").splitlines(keepends=True)
        caption = None
        while m.group(1) and lines and OPTION.match(lines[0].rstrip("\n")):
            opt = OPTION.match(lines.pop(0).rstrip("\n"))
            if opt.group("key") == "caption":
                caption = opt.group("value").strip()
        while lines and not lines[0].strip():
            lines.pop(0)
        out.append((m.group("lang"), caption, "".join(lines)))
    return out


def follow_page(page: Path, workdir: Path) -> dict:
    """Do what ``page`` says, literally, in ``workdir``: each block with a caption is
    written to that file (relative to ``workdir``); each Python block without one is
    executed, in page order, in one namespace with ``workdir`` as the current directory and
    on ``sys.path``. Returns the namespace. Other blocks (shell, output) are not run."""
    blocks = page_blocks(page.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": f"docs_page_{page.stem}"}
    old_cwd, old_path = os.getcwd(), list(sys.path)
    os.chdir(workdir)
    sys.path.insert(0, str(workdir))
    try:
        for number, (lang, caption, code) in enumerate(blocks):
            if caption:
                target = workdir / caption
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(code, encoding="utf-8")
            elif lang == "python":
                exec(compile(code, f"{page.name}[block {number}]", "exec"), namespace)
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
    return namespace


@pytest.fixture
def run_page(tmp_path, monkeypatch):
    """``run_page("extending/head.md")`` follows that docs page in a fresh folder."""
    monkeypatch.setenv("WANDB_MODE", "disabled")
    created = set(sys.modules)

    def run(relative: str) -> dict:
        return follow_page(DOCS / relative, tmp_path)

    yield run
    for name in set(sys.modules) - created:  # the page's own modules (my_heads, ...)
        module = sys.modules.get(name)
        if str(tmp_path) in str(getattr(module, "__file__", "") or ""):
            del sys.modules[name]
