"""The embedding cache refuses what it must never store or serve: NaN/inf vectors (named by
the positions of their texts and the cache key), wrong shapes, non-text input - and a
refused request leaves the cache on disk exactly as it was."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest

from causalrec.encoders.cache import EmbeddingCache, NonFiniteEmbeddingError

KEY = {"model": "sha256:test", "pooling": "mean", "template_version": "v1"}
DIM = 4
OLD = ["cached one", "cached two"]


def embed(texts):
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little")
        out[i] = np.random.default_rng(seed).standard_normal(DIM)
    return out


def poisoned(bad_texts: set[str], value: float):
    """An encoder that returns ``value`` in one coordinate for the texts in ``bad_texts``."""
    def compute(texts):
        out = embed(texts)
        for i, t in enumerate(texts):
            if t in bad_texts:
                out[i, 1] = value
        return out
    return compute


# (id, texts requested, texts the encoder poisons, value, positions named)
NONFINITE = [
    ("nan-first", ["a", "b", "c"], {"a"}, np.nan, [0]),
    ("nan-last", ["a", "b", "c"], {"c"}, np.nan, [2]),
    ("inf", ["a", "b", "c"], {"b"}, np.inf, [1]),
    ("minus-inf", ["a", "b"], {"a"}, -np.inf, [0]),
    ("all-nan", ["a", "b", "c"], {"a", "b", "c"}, np.nan, [0, 1, 2]),
    ("duplicate-text-named-at-first-position", ["x", "a", "x"], {"x"}, np.nan, [0]),
    ("after-cached-texts", [*OLD, "new", "bad"], {"bad"}, np.nan, [3]),
    ("cached-and-new-mixed", ["new", OLD[0], "bad", OLD[1]], {"bad"}, np.inf, [2]),
]


@pytest.mark.parametrize(("texts", "bad", "value", "positions"), [c[1:] for c in NONFINITE],
                         ids=[c[0] for c in NONFINITE])
def test_nonfinite_embeddings_are_never_stored(tmp_path, unchanged, texts, bad, value,
                                               positions):
    cache = EmbeddingCache(tmp_path, KEY)
    cache.get(OLD, embed)  # something already cached
    with unchanged(tmp_path), pytest.raises(NonFiniteEmbeddingError) as e:
        cache.get(texts, poisoned(bad, value))
    err = e.value
    assert err.rows == positions and err.namespace == cache.namespace
    assert f"positions {positions}" in str(err) and str(cache.dir) in str(err)
    assert "'model': 'sha256:test'" in str(err)  # the key
    # the good texts of that request were not stored either; the old ones still serve
    assert len(EmbeddingCache(tmp_path, KEY)) == 2
    np.testing.assert_array_equal(cache.get(OLD, embed), embed(OLD))


def _plant_nan(cache: EmbeddingCache, row: int, fix_checksum: bool) -> None:
    """Overwrite one stored vector with NaN (as an older version or a bad disk could have)."""
    manifest = json.loads(cache.manifest_path.read_text())
    shard = manifest["shards"][0]
    arr = np.load(cache.dir / shard["file"]).copy()
    arr[row, 0] = np.nan
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    (cache.dir / shard["file"]).write_bytes(buf.getvalue())
    if fix_checksum:
        shard["sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
        cache.manifest_path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("fix_checksum", [True, False], ids=["checksum-matches", "checksum-off"])
def test_a_stored_nan_is_dropped_and_re_encoded_when_verifying(tmp_path, fix_checksum):
    EmbeddingCache(tmp_path, KEY).get(OLD, embed)
    cache = EmbeddingCache(tmp_path, KEY, verify=True)
    _plant_nan(cache, 1, fix_checksum)
    out = cache.get(OLD, embed)
    np.testing.assert_array_equal(out, embed(OLD))
    assert cache.stats.dropped_shards == 1 and cache.stats.encoded == 2


def test_a_stored_nan_is_never_served_without_verification(tmp_path):
    EmbeddingCache(tmp_path, KEY).get(OLD, embed)
    cache = EmbeddingCache(tmp_path, KEY, verify=False)
    _plant_nan(cache, 1, fix_checksum=True)
    with pytest.raises(NonFiniteEmbeddingError) as e:
        cache.get(["other", OLD[1], OLD[0]], embed)
    assert e.value.rows == [1] and "the cache holds NaN/inf" in str(e.value)


# (id, texts, compute, error type, words)
BAD_REQUESTS = [
    ("wrong-row-count", ["a", "b"], lambda t: embed(t)[:1], ValueError,
     "compute returned shape (1, 4); expected [2, dim]"),
    ("one-dimensional", ["a", "b"], lambda t: embed(t)[:, 0], ValueError, "expected [2, dim]"),
    ("wrong-dim", ["a"], lambda t: np.zeros((1, 3), np.float32), ValueError,
     "compute returned dim 3, expected 4"),
    ("not-a-string", ["a", 5], embed, TypeError, "texts must be strings, got int: 5"),
    ("none-text", [None], embed, TypeError, "got NoneType"),
]


@pytest.mark.parametrize(("texts", "compute", "exc", "words"), [c[1:] for c in BAD_REQUESTS],
                         ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_store_nothing(tmp_path, unchanged, texts, compute, exc, words):
    cache = EmbeddingCache(tmp_path, KEY)
    cache.get(OLD, embed)
    with unchanged(tmp_path), pytest.raises(exc) as e:
        cache.get(texts, compute, dim=DIM)
    assert words in str(e.value), str(e.value)


def test_dim_mismatch_with_the_stored_vectors_stores_nothing(tmp_path, unchanged):
    EmbeddingCache(tmp_path, KEY).get(OLD, embed)
    with unchanged(tmp_path), pytest.raises(ValueError, match="holds dim 4 vectors; got 3"):
        EmbeddingCache(tmp_path, KEY).get(["new"], lambda t: np.zeros((len(t), 3), np.float32))
