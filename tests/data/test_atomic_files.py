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


# ---------------------------------------------------------------- round trip, any valid table
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r"),
                max_size=12)
_SEQ_TOKEN = st.text(st.characters(blacklist_categories=("Cs",),
                                   blacklist_characters="\t\n\r "), min_size=1, max_size=6)
_FLOAT = st.floats(allow_nan=False, allow_infinity=False)
_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_ .-]{0,10}", fullmatch=True)


@st.composite
def atomic_tables(draw):
    """A table every value of which the atomic format can hold, in read_atomic's dtypes."""
    names = draw(st.lists(_NAME, min_size=1, max_size=5, unique=True))
    n = draw(st.integers(0, 6))
    types, cols = {}, {}
    for name in names:
        typ = draw(st.sampled_from(["token", "float", "token_seq", "float_seq"]))
        types[name] = typ
        if typ == "token":
            values = draw(st.lists(_TEXT, min_size=n, max_size=n))
            cols[name] = np.array(values, dtype=object)
        elif typ == "float":
            values = draw(st.lists(st.one_of(_FLOAT, st.just(np.nan)), min_size=n, max_size=n))
            cols[name] = np.array(values, dtype=np.float64)
        else:
            item = _SEQ_TOKEN if typ == "token_seq" else _FLOAT
            col = np.empty(n, dtype=object)
            for i in range(n):
                col[i] = tuple(draw(st.lists(item, max_size=3)))
            cols[name] = col
    if len(names) == 1 and types[names[0]] == "token":  # a blank line is not a row
        cols[names[0]] = np.array([v or "x" for v in cols[names[0]]], dtype=object)
    if len(names) == 1 and types[names[0]] in ("token_seq", "float_seq"):
        for i, v in enumerate(cols[names[0]]):
            cols[names[0]][i] = v or (("x",) if types[names[0]] == "token_seq" else (0.0,))
    if len(names) == 1 and types[names[0]] == "float":
        cols[names[0]] = np.nan_to_num(cols[names[0]], nan=0.0)
    return pd.DataFrame(cols, columns=names), types


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(table=atomic_tables())
def test_read_atomic_inverts_write_atomic(tmp_path, table):
    frame, types = table
    path = write_atomic(tmp_path / "t.item", frame, types)
    back = read_atomic(path)
    assert back.types == types
    pd.testing.assert_frame_equal(back.frame, frame, check_exact=True)
    # and the text is a fixed point: writing what was read gives the same bytes
    assert format_atomic(back.frame, back.types) == path.read_text(encoding="utf-8")
