"""Shared checks of the malformed-input suite: what was on disk before a refused input is
exactly what is on disk after it (bytes, sizes and modification times)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest


def tree_state(root: str | os.PathLike) -> dict[str, tuple]:
    """{relative path: (sha256, size, mtime_ns)} for every file and folder under ``root``."""
    root = Path(root)
    state: dict[str, tuple] = {}
    if not root.exists():
        return state
    for p in sorted(root.rglob("*")):
        st = p.stat()
        rel = str(p.relative_to(root))
        if p.is_dir():
            state[rel + "/"] = ("dir",)
        else:
            state[rel] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_size,
                          st.st_mtime_ns)
    return state


@pytest.fixture
def unchanged():
    """``with unchanged(path): ...`` asserts nothing under ``path`` changed in the block."""
    import contextlib

    @contextlib.contextmanager
    def check(root):
        before = tree_state(root)
        yield before
        after = tree_state(root)
        assert after == before, {k: (before.get(k), after.get(k)) for k in
                                 set(before) | set(after) if before.get(k) != after.get(k)}

    return check


@pytest.fixture(scope="session")
def state():
    """:func:`tree_state` as a fixture (test modules are imported by path, not as a package)."""
    return tree_state
