"""A content-addressed, crash- and concurrency-safe cache of text embeddings.

Layout under ``root``::

    root/<namespace>/manifest.json      key, dim and the list of shards with their text hashes
    root/<namespace>/shard-<id>.npy     float32 [rows, dim], memory-mapped on read
    root/<namespace>/.lock              fcntl lock serialising writers

The namespace is a sha256 of the key (model identity = weight-file hashes or hub revision,
pooling, max length, dtype, text-template version, ...), so changing any of them addresses a
different set of shards; within a namespace a vector is found by its text's sha256. A lookup
reads the manifest without locking (it is only ever replaced atomically); texts not found are
encoded under the lock (a second sweep run waiting on the lock then finds them cached and
encodes nothing), written as a new shard with :mod:`causalrec.atomic`, and the manifest is
rewritten atomically, the shard file first. Shards whose file is missing, has another shape
or dtype than the manifest says, or whose sha256 does not match, are dropped and their texts
re-encoded. Nothing is pickled. Embeddings are finite numbers: NaN or inf from ``compute`` is
refused before anything is stored (:class:`NonFiniteEmbeddingError`, naming the texts'
positions and the key), a verified shard holding them is dropped and re-encoded, and one is
never served.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_bytes, write_json

FORMAT_VERSION = 1


def text_sha256(text: str) -> str:
    """sha256 of a text's UTF-8 bytes: the address of its embedding within a namespace."""
    if not isinstance(text, str):
        raise TypeError(f"texts must be strings, got {type(text).__name__}: {text!r:.80}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def key_namespace(key: dict) -> str:
    """The directory name for a cache key (a sha256 of its canonical JSON)."""
    blob = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class NonFiniteEmbeddingError(ValueError):
    """NaN or infinite embedding values. ``rows`` are positions in the ``texts`` passed to
    :meth:`EmbeddingCache.get`; ``namespace`` is the cache key's directory name."""

    def __init__(self, message: str, rows: list[int], namespace: str):
        self.rows = [int(r) for r in rows]
        self.namespace = namespace
        super().__init__(message)


@dataclass
class CacheStats:
    """What the last :meth:`EmbeddingCache.get` did."""

    requested: int = 0
    unique: int = 0
    hits: int = 0
    encoded: int = 0
    dropped_shards: int = 0


class EmbeddingCache:
    """Embeddings of texts under one key, stored as memory-mapped ``.npy`` shards.

    Args:
        root: cache directory (e.g. ``${paths.data_dir}/embeddings``).
        key: everything besides the text that determines an embedding (JSON-serialisable).
        verify: check each shard's sha256 before trusting it (once per process per file
            version); shape and dtype are always checked.
        shard_rows: at most this many rows per new shard.
    """

    def __init__(self, root: str | os.PathLike, key: dict, verify: bool = True,
                 shard_rows: int = 65536):
        self.root = Path(root).expanduser()
        self.key = dict(key)
        self.namespace = key_namespace(self.key)
        self.dir = self.root / self.namespace
        self.verify = bool(verify)
        self.shard_rows = int(shard_rows)
        self.stats = CacheStats()
        self._verified: dict[tuple, bool] = {}

    # ------------------------------------------------------------------ public
    def get(self, texts: Sequence[str], compute: Callable[[list[str]], np.ndarray],
            dim: int | None = None) -> np.ndarray:
        """Embeddings of ``texts`` [N, dim] (float32, input order).

        Cached vectors are read from the shards; the missing texts (each distinct text once)
        are passed to ``compute``, which must return a float32-castable array [M, dim].
        """
        texts = list(texts)
        hashes = [text_sha256(t) for t in texts]
        position: dict[str, int] = {}
        for i, h in enumerate(hashes):
            position.setdefault(h, i)
        unique = list(dict.fromkeys(hashes))
        self.stats = CacheStats(requested=len(texts), unique=len(unique))
        manifest, bad = self._read_valid()
        index = self._index(manifest)
        missing = [h for h in unique if h not in index]
        if missing or bad:
            with self._lock():
                manifest, bad = self._read_valid()
                if bad:
                    self._drop(manifest, bad)
                index = self._index(manifest)
                missing = [h for h in unique if h not in index]
                if missing:
                    first = {}
                    for h, t in zip(hashes, texts, strict=True):
                        first.setdefault(h, t)
                    values, offsets = self._block(compute([first[h] for h in missing]),
                                                  len(missing), dim)
                    self._check_finite(values, [position[h] for h in missing],
                                       "compute returned", offsets)
                    manifest = self._append(manifest, missing, values, offsets)
                    index = self._index(manifest)
                self.stats.encoded = len(missing)
        self.stats.hits = len(unique) - self.stats.encoded
        out = self._gather(manifest, index, hashes, dim)
        values, offsets = out if isinstance(out, tuple) else (out, None)
        self._check_finite(values, range(len(hashes)), "the cache holds", offsets)
        return out

    # ------------------------------------------------------------------ entry layout
    # One row per text here; :class:`~causalrec.encoders.cache_states.TokenStateCache`
    # stores a variable number of rows per text (``offsets``) through the same machinery.
    def _block(self, result, n: int, dim: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        """``compute``'s answer for ``n`` texts as (rows [R, dim] float32, offsets [n + 1] or
        ``None`` for one row per text)."""
        vectors = np.asarray(result, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != n:
            raise ValueError(f"compute returned shape {vectors.shape}; expected [{n}, dim]")
        if dim is not None and vectors.shape[1] != dim:
            raise ValueError(f"compute returned dim {vectors.shape[1]}, expected {dim}")
        return vectors, None

    @staticmethod
    def _shard_offsets(shard: dict) -> np.ndarray:
        """Row offsets of a shard's texts (text ``j`` owns rows ``o[j]:o[j + 1]``)."""
        return np.arange(len(shard["texts"]) + 1)

    def _check_finite(self, vectors, rows, what: str, offsets=None) -> None:
        """Refuse texts with NaN/inf rows; ``rows[j]`` is the input position of text ``j``."""
        bad = ~np.isfinite(vectors).all(axis=1)
        if offsets is not None:  # a text is bad when any of its rows is
            c = np.concatenate([[0], np.cumsum(bad)])
            bad = c[offsets[1:]] - c[offsets[:-1]] > 0
        if bad.any():
            at = [list(rows)[j] for j in np.flatnonzero(bad)]
            raise NonFiniteEmbeddingError(
                f"{what} NaN/inf embeddings for {len(at)} texts (positions {at[:5]} of the "
                f"texts passed to get); nothing was stored or served. Cache {self.dir}, key "
                f"{self.key}", rows=at[:5], namespace=self.namespace)

    def clear(self) -> None:
        """Remove this key's shards and manifest."""
        import shutil

        with self._lock():
            for p in self.dir.glob("shard-*.npy"):
                p.unlink(missing_ok=True)
            (self.dir / "manifest.json").unlink(missing_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __len__(self) -> int:
        manifest, _ = self._read_valid()
        return len(self._index(manifest))

    # ------------------------------------------------------------------ manifest
    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    def _empty(self) -> dict:
        return {"format": FORMAT_VERSION, "key": self.key, "namespace": self.namespace,
                "dim": None, "shards": []}

    def _read_manifest(self) -> tuple[dict, bool]:
        """(manifest, ok): a missing, unreadable or foreign manifest counts as empty."""
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return self._empty(), True
        except (OSError, ValueError):
            return self._empty(), False
        expected_key = json.loads(json.dumps(self.key, default=str))
        if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION
                or manifest.get("key") != expected_key or not isinstance(manifest.get("shards"), list)):
            return self._empty(), False
        return manifest, True

    def _read_valid(self) -> tuple[dict, list[str]]:
        """The manifest and the names of shards that failed validation (or ``["*"]`` when
        the manifest itself was corrupt)."""
        manifest, ok = self._read_manifest()
        bad = [] if ok else ["*"]
        for shard in manifest["shards"]:
            if not self._valid(shard, manifest.get("dim")):
                bad.append(shard.get("file", "?"))
        return manifest, bad

    def _valid(self, shard: dict, dim: int | None) -> bool:
        try:
            path = self.dir / shard["file"]
            st = path.stat()
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            offsets = self._shard_offsets(shard)
            if arr.dtype != np.float32 or arr.shape != (shard["rows"], dim) or \
                    len(offsets) != len(shard["texts"]) + 1 or offsets[0] != 0 or \
                    offsets[-1] != shard["rows"] or (np.diff(offsets) < 0).any():
                return False
            if self.verify:
                memo = (str(path), st.st_size, st.st_mtime_ns, shard.get("sha256"))
                if memo not in self._verified:  # intact, and finite (never serve NaN)
                    self._verified[memo] = _sha256_file(path) == shard.get("sha256") \
                        and bool(np.isfinite(arr).all())
                return self._verified[memo]
            return True
        except (OSError, ValueError, KeyError, TypeError):
            return False

    @staticmethod
    def _index(manifest: dict) -> dict[str, tuple[str, int]]:
        index: dict[str, tuple[str, int]] = {}
        for shard in manifest["shards"]:
            if shard.get("_bad"):
                continue
            for row, h in enumerate(shard["texts"]):
                index.setdefault(h, (shard["file"], row))
        return index

    def _drop(self, manifest: dict, bad: list[str]) -> None:
        """Under the lock: remove failed shards (their texts will be re-encoded)."""
        keep = [s for s in manifest["shards"] if s.get("file") not in bad]
        for s in manifest["shards"]:
            if s.get("file") in bad:
                (self.dir / s["file"]).unlink(missing_ok=True)
        manifest["shards"] = keep
        if not keep:
            manifest["dim"] = None
        if "*" in bad:  # the manifest was unreadable: orphaned shards are garbage
            for p in self.dir.glob("shard-*.npy"):
                p.unlink(missing_ok=True)
        write_json(self.manifest_path, manifest)
        self.stats.dropped_shards += len([b for b in bad if b != "*"]) + ("*" in bad)

    def _append(self, manifest: dict, hashes: list[str], vectors: np.ndarray,
                offsets: np.ndarray | None = None) -> dict:
        """Under the lock: write new shard(s) of at most ``shard_rows`` rows (at least one
        text each), then the manifest that lists them."""
        if manifest.get("dim") not in (None, vectors.shape[1]):
            raise ValueError(f"cache {self.dir} holds dim {manifest['dim']} vectors; got "
                             f"{vectors.shape[1]} for the same key")
        manifest = dict(manifest, dim=int(vectors.shape[1]), shards=list(manifest["shards"]))
        o = np.arange(len(hashes) + 1) if offsets is None else np.asarray(offsets)
        start = 0
        while start < len(hashes):
            stop = max(start + 1, int(np.searchsorted(o, o[start] + self.shard_rows, "right")) - 1)
            block = np.ascontiguousarray(vectors[o[start]:o[stop]])
            buf = io.BytesIO()
            np.save(buf, block, allow_pickle=False)
            data = buf.getvalue()
            name = f"shard-{secrets.token_hex(8)}.npy"
            write_bytes(self.dir / name, data)
            entry = {"file": name, "rows": int(len(block)),
                     "sha256": hashlib.sha256(data).hexdigest(), "texts": hashes[start:stop]}
            if offsets is not None:
                entry["offsets"] = (o[start:stop + 1] - o[start]).tolist()
            manifest["shards"].append(entry)
            start = stop
        write_json(self.manifest_path, manifest, indent=None)
        return manifest

    def _gather(self, manifest: dict, index: dict, hashes: list[str],
                dim: int | None) -> np.ndarray:
        d = manifest.get("dim") or dim or 0
        out = np.empty((len(hashes), d), dtype=np.float32)
        by_shard: dict[str, tuple[list[int], list[int]]] = {}
        for i, h in enumerate(hashes):
            file, row = index[h]
            dst, src = by_shard.setdefault(file, ([], []))
            dst.append(i)
            src.append(row)
        for file, (dst, src) in by_shard.items():
            arr = np.load(self.dir / file, mmap_mode="r", allow_pickle=False)
            out[dst] = arr[np.asarray(src)]
        return out

    # ------------------------------------------------------------------ locking
    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: atomic renames only
            yield
            return
        with open(self.dir / ".lock", "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            h.update(block)
    return h.hexdigest()
