"""RecBole atomic files: typed round trip and a dataset folder as InteractionData."""

from __future__ import annotations

import numpy as np
import pandas as pd

import causalrec.data as crd
from causalrec.data.atomic_files import format_atomic, read_atomic, write_atomic


def test_round_trip_all_field_types(tmp_path):
    frame = pd.DataFrame({
        "user_id": ["u1", "u2", "u10"],
        "score": [1.0, 2.5, np.nan],  # NaN is written as an empty field
        "tags": [("a", "b"), (), ("c",)],
        "vec": [(0.5, 1.0), (2.0,), ()],
    })
    types = {"user_id": "token", "score": "float", "tags": "token_seq", "vec": "float_seq"}
    path = write_atomic(tmp_path / "x.user", frame, types)
    text = path.read_text()
    assert text.splitlines()[0] == "user_id:token\tscore:float\ttags:token_seq\tvec:float_seq"
    assert text.splitlines()[1] == "u1\t1\ta b\t0.5 1"
    back = read_atomic(path)
    assert back.types == types
    assert back.frame["user_id"].tolist() == ["u1", "u2", "u10"]
    np.testing.assert_array_equal(back.frame["score"].to_numpy(), frame["score"].to_numpy())
    assert back.frame["tags"].tolist() == [("a", "b"), (), ("c",)]
    assert back.frame["vec"].tolist() == [(0.5, 1.0), (2.0,), ()]
    # and writing what was read gives the same bytes
    assert format_atomic(back.frame, back.types) == text


def test_float_precision_survives(tmp_path):
    v = np.array([0.1, 1 / 3, 1e-12, 123456789.0, -2.5])
    p = write_atomic(tmp_path / "f.inter", pd.DataFrame({"x": v}), {"x": "float"})
    np.testing.assert_array_equal(read_atomic(p).frame["x"].to_numpy(), v)


def test_ml100k_files_round_trip_byte_for_byte(tmp_path):
    from causalrec.data.fetcher import cache_root

    crd.fetch("ml-100k", quiet=True)
    for suffix in ("inter", "item", "user"):
        src = cache_root() / "ml-100k" / f"ml-100k.{suffix}"
        table = read_atomic(src)
        out = write_atomic(tmp_path / src.name, table.frame, table.types)
        assert out.read_bytes() == src.read_bytes(), suffix


def test_recbole_folder_loads_as_interaction_data(tmp_path):
    folder = tmp_path / "toy"
    write_atomic(folder / "toy.inter", pd.DataFrame({
        "user_id": ["b", "a", "b", "c"], "item_id": ["10", "2", "2", "10"],
        "label": [1.0, 0.0, 1.0, 1.0], "propensity": [0.5, 0.25, 1.0, 0.5]}),
        {"user_id": "token", "item_id": "token", "label": "float", "propensity": "float"})
    write_atomic(folder / "toy.item", pd.DataFrame({"item_id": ["2", "10", "7"],
                                                    "genre": [("x",), ("y", "z"), ()]}),
                 {"item_id": "token", "genre": "token_seq"})
    data = crd.load("recbole", path=folder)
    assert (data.n_users, data.n_items, len(data)) == (3, 3, 4)
    # users sorted (no .user file); items in .item file order
    assert data.user_ids.tolist() == ["a", "b", "c"] and data.item_ids.tolist() == ["2", "10", "7"]
    df = data.interactions
    assert df["user"].tolist() == [1, 0, 1, 2] and df["item"].tolist() == [1, 0, 0, 1]
    assert df["propensity"].tolist() == [0.5, 0.25, 1.0, 0.5]
    assert data.item_features["genre"].tolist() == [("x",), ("y", "z"), ()]


def test_numeric_ids_sort_as_numbers():
    from causalrec.data.recbole_dataset import sorted_ids

    assert sorted_ids(np.array(["10", "9", "100", "9"], dtype=object)).tolist() == \
        ["9", "10", "100"]
    assert sorted_ids(np.array(["b", "a10", "a9"], dtype=object)).tolist() == ["a10", "a9", "b"]
