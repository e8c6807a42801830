"""The content-addressed embedding cache: hits, partial hits, corruption, keys, concurrency."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp

import numpy as np
import pytest

from causalrec.encoders.cache import EmbeddingCache, key_namespace

DIM = 6
KEY = {"model": "sha256:test", "pooling": "mean", "max_length": 16, "template_version": "v1"}


def fake_embed(texts):
    """Deterministic vectors from each text's hash (stands in for a language model)."""
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little")
        out[i] = np.random.default_rng(seed).standard_normal(DIM)
    return out


class Recorder:
    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return fake_embed(texts)


TEXTS = [f"text number {i}" for i in range(20)]


def test_hit_and_partial_hit(tmp_path):
    cache = EmbeddingCache(tmp_path, KEY)
    rec = Recorder()
    first = cache.get(TEXTS[:12], rec)
    np.testing.assert_array_equal(first, fake_embed(TEXTS[:12]))
    assert rec.calls == [TEXTS[:12]] and cache.stats.encoded == 12
    # full hit: nothing is encoded
    again = EmbeddingCache(tmp_path, KEY).get(TEXTS[:12], rec)
    np.testing.assert_array_equal(again, first)
    assert len(rec.calls) == 1
    # partial hit, in a new order with duplicates: only the 8 new texts are encoded, once
    mixed = TEXTS[::-1] + TEXTS[15:17]
    out = cache.get(mixed, rec)
    assert rec.calls[1] == [t for t in mixed if t not in TEXTS[:12]][:8]
    assert sorted(rec.calls[1]) == sorted(TEXTS[12:])
    assert (cache.stats.hits, cache.stats.encoded, cache.stats.requested) == (12, 8, 22)
    np.testing.assert_array_equal(out, fake_embed(mixed))
    assert len(cache) == 20
    manifest = json.loads(cache.manifest_path.read_text())
    assert [s["rows"] for s in manifest["shards"]] == [12, 8]
    # shards are plain .npy (no pickle), memory-mappable
    arr = np.load(cache.dir / manifest["shards"][0]["file"], mmap_mode="r", allow_pickle=False)
    assert isinstance(arr, np.memmap) and arr.shape == (12, DIM)


def _corrupt_flip(path):
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x55  # same size, different bytes
    path.write_bytes(bytes(data))


def _corrupt_truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def _corrupt_shape(path):
    np.save(path, np.zeros((3, DIM + 1), dtype=np.float32))


def _corrupt_delete(path):
    path.unlink()


@pytest.mark.parametrize("corrupt", [_corrupt_flip, _corrupt_truncate, _corrupt_shape,
                                     _corrupt_delete])
def test_corrupt_shard_is_detected_and_rebuilt(tmp_path, corrupt):
    cache = EmbeddingCache(tmp_path, KEY)
    cache.get(TEXTS[:10], fake_embed)
    cache.get(TEXTS[10:], fake_embed)
    shards = json.loads(cache.manifest_path.read_text())["shards"]
    corrupt(cache.dir / shards[0]["file"])
    rec = Recorder()
    fresh = EmbeddingCache(tmp_path, KEY)
    out = fresh.get(TEXTS, rec)
    np.testing.assert_array_equal(out, fake_embed(TEXTS))
    assert rec.calls == [TEXTS[:10]]  # only the bad shard's texts are re-encoded
    assert fresh.stats.dropped_shards == 1
    assert fresh.get(TEXTS, rec) is not None and len(rec.calls) == 1  # healthy again


def test_corrupt_manifest_is_rebuilt(tmp_path):
    cache = EmbeddingCache(tmp_path, KEY)
    cache.get(TEXTS, fake_embed)
    cache.manifest_path.write_text("{ not json")
    rec = Recorder()
    out = EmbeddingCache(tmp_path, KEY).get(TEXTS[:5], rec)
    np.testing.assert_array_equal(out, fake_embed(TEXTS[:5]))
    assert rec.calls == [TEXTS[:5]]
    assert len(list(cache.dir.glob("shard-*.npy"))) == 1  # orphaned shards were removed


def test_wrong_dimension_from_compute_is_an_error(tmp_path):
    cache = EmbeddingCache(tmp_path, KEY)
    with pytest.raises(ValueError, match="expected 7"):
        cache.get(TEXTS[:2], fake_embed, dim=7)
    with pytest.raises(ValueError, match=r"expected \[2, dim\]"):
        cache.get(TEXTS[:2], lambda t: np.zeros((1, DIM)))
    with pytest.raises(TypeError, match="texts must be strings"):
        cache.get(["ok", None], fake_embed)


def test_key_addresses_separate_namespaces(tmp_path):
    base = key_namespace(KEY)
    assert key_namespace(dict(KEY)) == base
    for change in ({"pooling": "cls"}, {"max_length": 32}, {"template_version": "v2"},
                   {"model": "sha256:other"}):
        assert key_namespace({**KEY, **change}) != base
    rec = Recorder()
    EmbeddingCache(tmp_path, KEY).get(TEXTS[:3], rec)
    EmbeddingCache(tmp_path, {**KEY, "template_version": "v2"}).get(TEXTS[:3], rec)
    assert len(rec.calls) == 2


def _worker(args):
    root, texts, slow = args
    import time

    def compute(batch):
        time.sleep(slow)
        return fake_embed(batch)

    cache = EmbeddingCache(root, KEY)
    out = cache.get(texts, compute)
    ok = bool(np.array_equal(out, fake_embed(texts)))
    return ok, cache.stats.encoded


def test_concurrent_writers_do_not_corrupt(tmp_path):
    texts = [f"concurrent text {i}" for i in range(60)]
    jobs = [(str(tmp_path), texts[i * 10: i * 10 + 30], 0.05) for i in range(4)]
    with mp.get_context("fork").Pool(4) as pool:
        results = pool.map(_worker, jobs)
    assert all(ok for ok, _ in results)
    # the lock makes later writers see earlier shards: each distinct text is encoded once
    assert sum(n for _, n in results) == len({t for job in jobs for t in job[1]})
    rec = Recorder()
    cache = EmbeddingCache(tmp_path, KEY)
    out = cache.get(texts, rec)
    np.testing.assert_array_equal(out, fake_embed(texts))
    assert rec.calls == []
    assert not list(cache.dir.glob(".*.tmp"))  # no half-written files left behind
