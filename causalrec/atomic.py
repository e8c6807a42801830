"""Atomic file writes: a crash or Ctrl-C never leaves a half-written file or folder.

Everything is written to a temporary sibling first, flushed and fsynced, then moved into
place with ``os.replace`` (atomic on POSIX within one filesystem).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class DiskFullError(OSError):
    """No space (or quota) left while writing a file. The message names the file and the
    filesystem it is on; the partial temporary file has been removed and the file that was
    there before, if any, is unchanged."""


def mount_point(path: str | os.PathLike) -> Path:
    """The mount point of the filesystem holding ``path`` (its nearest existing parent)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return p


def disk_full_error(path: str | os.PathLike, exc: OSError) -> DiskFullError:
    """A :class:`DiskFullError` for a failed write of ``path`` (keeps the errno)."""
    mount = mount_point(path)
    try:
        free = f"{shutil.disk_usage(mount).free / 2**20:.1f} MiB free"
    except OSError:
        free = "free space unknown"
    what = "disk quota exceeded" if exc.errno == errno.EDQUOT else "no space left on the disk"
    err = DiskFullError(exc.errno, f"{what} mounted at {mount} ({free}) while writing {path}; "
                                   "nothing was written there (the partial file was removed)")
    err.filename = os.fspath(path)
    return err


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


#: new files get the usual 0o666 & ~umask (mkstemp alone would leave them 0o600)
_NEW_FILE_MODE = 0o666 & ~_umask()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same directory (so the final rename never
    crosses filesystems), are fsynced and then renamed over ``path``. On any failure or
    interrupt (Ctrl-C included) the temporary file is removed and ``path`` keeps its old
    content; a full disk raises :class:`DiskFullError` naming the file and the filesystem.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            try:  # an existing file keeps its permissions
                mode = os.stat(path).st_mode & 0o7777
            except FileNotFoundError:
                mode = _NEW_FILE_MODE
            if hasattr(os, "fchmod"):  # POSIX
                os.fchmod(fd, mode)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise disk_full_error(path, exc) from None
        raise
    _fsync_dir(path.parent)
    return path


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode(encoding))


def write_json(path: str | os.PathLike, obj: Any, indent: int = 2) -> Path:
    """Serialise ``obj`` as JSON (sorted keys, NaN rejected) and write it atomically."""
    text = json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False, default=_json_default)
    return write_text(path, text + "\n")


def _json_default(obj: Any) -> Any:
    # numpy scalars / arrays and paths, without importing numpy eagerly
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 0) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")


@contextlib.contextmanager
def staging_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Build a directory under a temporary name; it appears at ``final`` only on success.

    If ``final`` already exists it is replaced (the old copy is removed after the swap).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        yield tmp
        _fsync_dir(tmp)
        if final.exists():
            old = final.with_name(f".{final.name}.old.{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
        _fsync_dir(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
