"""Malformed input: each case raises DataValidationError naming the file, column and rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalrec.data as crd
from causalrec.data import DataValidationError, InteractionData
from causalrec.data.atomic_files import read_atomic

HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
ROWS = ["1\t10\t3\t100", "1\t11\t4\t101", "2\t10\t5\t102", "3\t12\t1\t103"]
ITEMS = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" \
        "10\tToy Story\t1995\tAnimation Comedy\n11\tHeat\t1995\tAction\n" \
        "12\tCasino\t1995\tDrama\n"
USERS = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n" \
        "1\t24\tM\twriter\t1\n2\t30\tF\tother\t2\n3\t40\tM\tartist\t3\n"


def ml_folder(tmp_path, inter=None, items=ITEMS, users=USERS):
    """A tiny RecBole-format ml-100k folder with optional corruptions."""
    d = tmp_path / "ml-100k"
    d.mkdir()
    (d / "ml-100k.inter").write_text(HEADER + "\n".join(ROWS) + "\n" if inter is None else inter)
    (d / "ml-100k.item").write_text(items)
    (d / "ml-100k.user").write_text(users)
    return d


def test_valid_tiny_folder_loads(tmp_path):
    data = crd.load("ml-100k", path=ml_folder(tmp_path))
    assert (data.n_users, data.n_items, len(data)) == (3, 3, 4)
    assert data.item_text[0] == "Toy Story (1995). Genres: Animation, Comedy"


def check(exc: pytest.ExceptionInfo, file: str | None, column: str | None, rows, words: str,
          unit: str = "lines"):
    """``rows``: 1-based file lines (header = 1) for file errors, 0-based table rows for
    in-memory tables (``unit="rows"``)."""
    e = exc.value
    assert isinstance(e, DataValidationError)
    if file is not None:
        assert e.source is not None and e.source.endswith(file), e.source
        assert file in str(e)
    if column is not None:
        assert e.column == column and repr(column) in str(e)
    if rows is not None:
        assert e.unit == unit and e.rows == rows and f"{unit} {rows}" in str(e)
    assert words in str(e), str(e)


def test_truncated_file(tmp_path):
    inter = HEADER + "\n".join(ROWS[:3]) + "\n3\t12"  # cut off in the middle of the last row
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, inter))
    check(e, "ml-100k.inter", "rating", [5], "fewer fields than the header's 4")


def test_bad_header_type(tmp_path):
    inter = HEADER.replace("rating:float", "rating:double") + "\n".join(ROWS) + "\n"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, inter))
    check(e, "ml-100k.inter", "rating", [1], "unknown field type 'double'")


def test_header_without_types(tmp_path):
    inter = "user_id\titem_id\trating\ttimestamp\n" + "\n".join(ROWS) + "\n"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, inter))
    check(e, "ml-100k.inter", "user_id", [1], "is not 'name:type'")


def test_nan_rating(tmp_path):
    rows = list(ROWS)
    rows[2] = "2\t10\tnan\t102"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, HEADER + "\n".join(rows) + "\n"))
    check(e, "ml-100k.inter", "rating", [4], "1 missing/NaN values in a required field")


def test_rating_not_a_number(tmp_path):
    rows = list(ROWS)
    rows[1] = "1\t11\tfour\t101"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, HEADER + "\n".join(rows) + "\n"))
    check(e, "ml-100k.inter", "rating", [3], "not numbers (e.g. ['four'])")


def test_unknown_item_id(tmp_path):
    rows = [*ROWS, "3\t99\t2\t104"]
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, HEADER + "\n".join(rows) + "\n"))
    check(e, "ml-100k.inter", "item_id", [6], "unknown item ids (e.g. ['99'])")


def test_unknown_user_id(tmp_path):
    rows = [*ROWS, "7\t10\t2\t104"]
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, HEADER + "\n".join(rows) + "\n"))
    check(e, "ml-100k.inter", "user_id", [6], "unknown user ids (e.g. ['7'])")


def test_duplicate_item_row(tmp_path):
    items = ITEMS + "11\tHeat again\t1995\tAction\n"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, items=items))
    check(e, "ml-100k.item", "item_id", [5], "1 duplicate ids (e.g. ['11'])")


def test_wrong_delimiter(tmp_path):
    inter = HEADER.replace("\t", ",") + "\n".join(r.replace("\t", ",") for r in ROWS) + "\n"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, inter))
    check(e, "ml-100k.inter", None, [1], "wrong delimiter")
    assert "','-separated" in str(e.value)


def test_extra_field_in_a_row(tmp_path):
    rows = list(ROWS)
    rows[1] = "1\t11\t4\t101\t7"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, HEADER + "\n".join(rows) + "\n"))
    check(e, "ml-100k.inter", None, [3], "more fields than the header's 4")


def test_empty_file(tmp_path):
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, ""))
    check(e, "ml-100k.inter", None, None, "empty file: no header and no rows")


def test_header_only(tmp_path):
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, HEADER))
    check(e, "ml-100k.inter", None, None, "no interactions")


def test_missing_required_field(tmp_path):
    inter = "user_id:token\titem_id:token\trating:float\n1\t10\t3\n"
    with pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=ml_folder(tmp_path, inter))
    check(e, "ml-100k.inter", "timestamp", [1], "missing required field 'timestamp'")


def test_duplicate_header_field(tmp_path):
    p = tmp_path / "d.inter"
    p.write_text("user_id:token\tuser_id:token\n1\t2\n")
    with pytest.raises(DataValidationError) as e:
        read_atomic(p)
    check(e, "d.inter", "user_id", [1], "duplicate field name")


def test_not_utf8(tmp_path):
    p = tmp_path / "bad.item"
    p.write_bytes(b"item_id:token\ttitle:token_seq\n1\tCaf\xe9\n")
    with pytest.raises(DataValidationError) as e:
        read_atomic(p)
    check(e, "bad.item", None, [2], "not UTF-8")


def test_bad_float_seq(tmp_path):
    p = tmp_path / "v.item"
    p.write_text("item_id:token\tvec:float_seq\n1\t0.5 1\n2\t0.5 x\n")
    with pytest.raises(DataValidationError) as e:
        read_atomic(p)
    check(e, "v.item", "vec", [3], "has a non-number")


def test_propensity_zero_in_an_inter_file(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    (d / "logs.inter").write_text("user_id:token\titem_id:token\tlabel:float\tpropensity:float\n"
                                  "a\t1\t1\t0.5\nb\t2\t0\t0\nc\t1\t1\t0.25\n")
    with pytest.raises(DataValidationError) as e:
        crd.load("recbole", path=d)
    check(e, "logs.inter", "propensity", [3], "propensities must lie in (0, 1]; found [0.0]")


def test_empty_label_field(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    (d / "logs.inter").write_text("user_id:token\titem_id:token\tlabel:float\n"
                                  "a\t1\t1\nb\t2\t\n")
    with pytest.raises(DataValidationError) as e:
        crd.load("recbole", path=d)
    check(e, "logs.inter", "label", [3], "1 missing/NaN values")


# ---------------------------------------------------------------- schema validation
def frame(**cols):
    base = {"user": np.array([0, 1, 2], dtype=np.int64), "item": np.array([0, 1, 1], np.int64)}
    base.update(cols)
    return pd.DataFrame(base)


def test_propensity_zero():
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame(propensity=[0.5, 0.0, 1.0]), 3, 2, source="logs.csv")
    check(e, "logs.csv", "propensity", [1], "propensities must lie in (0, 1]; found [0.0]",
          unit="rows")


def test_propensity_above_one():
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame(propensity=[0.5, 1.0, 1.5]), 3, 2, source="logs.csv")
    check(e, "logs.csv", "propensity", [2], "found [1.5]", unit="rows")


def test_item_index_out_of_range():
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame(item=np.array([0, 5, 1], np.int64)), 3, 2, source="x")
    check(e, "x", "item", [1], "reference unknown items", unit="rows")


def test_wrong_dtype():
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame(rating=["a", 1.0, 2.0]), 3, 2, source="x")
    check(e, "x", "rating", [0], "wrong dtype", unit="rows")


def test_missing_item_column():
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame().drop(columns="item"), 3, 2, source="x")
    check(e, "x", "item", None, "missing required column 'item'")


def test_duplicate_ids_in_feature_table():
    feats = pd.DataFrame({"age": [1, 2, 3]}, index=[0, 1, 1])
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame(), 3, 2, source="x", user_features=feats)
    check(e, "x", "user_features", [2], "duplicate ids in a feature table", unit="rows")


def test_feature_table_wrong_length():
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame(), 3, 2, source="x", item_features=pd.DataFrame({"a": [1]}))
    check(e, "x", "item_features", None, "item_features has 1 rows but n=2")


def test_empty_interactions():
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame().iloc[:0], 3, 2, source="x")
    check(e, "x", None, None, "no interactions")
