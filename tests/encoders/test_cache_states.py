"""TokenStateCache: a variable number of rows per text in the embedding cache's shards."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from causalrec.encoders.cache import NonFiniteEmbeddingError
from causalrec.encoders.cache_states import TokenStateCache

DIM = 3
KEY = {"model": "sha256:test", "kind": "token_states", "layer": 1}


def fake_states(texts):
    """One row per word, deterministic from the word and its position."""
    rows, ptr = [], [0]
    for t in texts:
        for j, w in enumerate(t.split()):
            seed = int.from_bytes(hashlib.sha256(f"{j}:{w}".encode()).digest()[:4], "little")
            rows.append(np.random.default_rng(seed).standard_normal(DIM))
        ptr.append(ptr[-1] + len(t.split()))
    return np.asarray(rows, np.float32).reshape(-1, DIM), np.asarray(ptr)


TEXTS = ["a b c", "d", "e f", "g h i j k", "l m"]


def test_ragged_round_trip_partial_hits_and_shard_split(tmp_path):
    cache = TokenStateCache(tmp_path, KEY, shard_rows=4)
    asked = []

    def compute(missing):
        asked.append(list(missing))
        return fake_states(missing)

    flat, ptr = cache.get(TEXTS[:3], compute, dim=DIM)
    want_flat, want_ptr = fake_states(TEXTS[:3])
    np.testing.assert_array_equal(ptr, want_ptr)
    np.testing.assert_array_equal(flat, want_flat)
    # reorder + duplicates + 2 new texts: only those are computed
    texts = [TEXTS[4], TEXTS[0], TEXTS[3], TEXTS[0], TEXTS[1]]
    flat, ptr = TokenStateCache(tmp_path, KEY, shard_rows=4).get(texts, compute, dim=DIM)
    assert asked == [TEXTS[:3], [TEXTS[4], TEXTS[3]]]
    want_flat, want_ptr = fake_states(texts)
    np.testing.assert_array_equal(ptr, want_ptr)
    np.testing.assert_array_equal(flat, want_flat)
    manifest = json.loads(cache.manifest_path.read_text())
    # shards hold whole texts of at most 4 rows (a longer text gets a shard of its own)
    assert [s["rows"] for s in manifest["shards"]] == [4, 2, 2, 5]
    assert [s["offsets"] for s in manifest["shards"]] == [[0, 3, 4], [0, 2], [0, 2], [0, 5]]
    assert len(cache) == 5


def test_a_shard_with_bad_offsets_is_dropped_and_recomputed(tmp_path):
    cache = TokenStateCache(tmp_path, KEY)
    cache.get(TEXTS, fake_states, dim=DIM)
    manifest = json.loads(cache.manifest_path.read_text())
    manifest["shards"][0]["offsets"][-1] -= 1  # no longer ends at the shard's rows
    cache.manifest_path.write_text(json.dumps(manifest))
    again = TokenStateCache(tmp_path, KEY)
    flat, ptr = again.get(TEXTS, fake_states, dim=DIM)
    assert again.stats.dropped_shards == 1 and again.stats.encoded == len(TEXTS)
    np.testing.assert_array_equal(flat, fake_states(TEXTS)[0])


def test_bad_compute_answers_are_refused_before_anything_is_stored(tmp_path):
    cache = TokenStateCache(tmp_path, KEY)

    def nan_in_third(missing):
        flat, ptr = fake_states(missing)
        flat[ptr[2] + 1] = np.nan  # a row of the third text
        return flat, ptr

    with pytest.raises(NonFiniteEmbeddingError, match=r"1 texts \(positions \[2\]") as err:
        cache.get(TEXTS, nan_in_third, dim=DIM)
    assert err.value.rows == [2] and len(cache) == 0
    with pytest.raises(ValueError, match=r"row pointers of shape \(3,\); expected \[6\]"):
        cache.get(TEXTS, lambda m: (fake_states(m)[0], np.array([0, 1, 2])))
    with pytest.raises(ValueError, match=r"states of shape \(2, 3\); expected \[13, dim\]"):
        cache.get(TEXTS, lambda m: (np.zeros((2, DIM)), fake_states(m)[1]))
    assert len(cache) == 0
