"""Malformed RecBole atomic files (.inter / .user / .item): each case raises
DataValidationError naming the file, the column and the 1-based lines (header = line 1),
and leaves the files as they were. Valid but unusual files (byte-order mark, CR line
endings, one-token sequences) load correctly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalrec.data as crd
from causalrec.data import DataValidationError
from causalrec.data.atomic_files import read_atomic, write_atomic

UIL = "user_id:token\titem_id:token\tlabel:float\n"
UIR = "user_id:token\titem_id:token\trating:float\n"
UIRT = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
GOOD = ["u1\ti1\t1", "u2\ti2\t0", "u3\ti1\t1"]


def rows(*lines: str, header: str = UIL) -> str:
    return header + "\n".join(lines) + "\n"


def one(header: str, value: str, pos: int = 1) -> str:
    """GOOD rows with the last field of row ``pos`` (0-based; line pos + 2) set to ``value``,
    under ``header`` (user, item, one more field)."""
    out = list(GOOD)
    u, i, _ = out[pos].split("\t")
    out[pos] = f"{u}\t{i}\t{value}"
    return rows(*out, header=header)


def extra(name: str, typ: str, values: list[str]) -> str:
    """GOOD rows (label) with one more field ``name:typ`` holding ``values``."""
    return rows(*(f"{r}\t{v}" for r, v in zip(GOOD, values, strict=True)),
                header=UIL.rstrip("\n") + f"\t{name}:{typ}\n")


ITEMS = "item_id:token\ttitle:token_seq\ni1\tToy Story\ni2\tHeat\n"
USERS = "user_id:token\tage:float\nu1\t20\nu2\t30\nu3\t40\n"
BIG = "9" * 400

# (id, .inter text, .user text, .item text, file at fault, column, lines, words)
CASES = [
    ("inf-rating", one(UIR, "inf"), None, None, "inter", "rating", [3], "infinite or too large"),
    ("minus-inf-rating", one(UIR, "-inf"), None, None, "inter", "rating", [3], "infinite"),
    ("Infinity-rating", one(UIR, "Infinity"), None, None, "inter", "rating", [3], "infinite"),
    ("1e999-rating", one(UIR, "1e999"), None, None, "inter", "rating", [3], "too large"),
    ("400-digit-rating", one(UIR, BIG), None, None, "inter", "rating", [3], "(400 chars)"),
    ("400-digit-negative", one(UIR, "-" + BIG), None, None, "inter", "rating", [3], "infinite"),
    ("400-digit-timestamp", rows("u1\ti1\t3\t" + BIG, header=UIRT), None, None, "inter",
     "timestamp", [2], "too large for a float64"),
    ("inf-label", one(UIL, "inf", 2), None, None, "inter", "label", [4], "infinite"),
    ("empty-user-id", rows("u1\ti1\t1", "\ti2\t0"), None, None, "inter", "user_id", [3],
     "1 empty ids"),
    ("blank-user-id", rows("u1\ti1\t1", "   \ti2\t0"), None, None, "inter", "user_id", [3],
     "empty ids"),
    ("empty-item-id", rows("u1\t\t1", "u2\ti2\t0"), None, None, "inter", "item_id", [2],
     "empty ids"),
    ("label-token-bad", one(UIL.replace("label:float", "label:token"), "yes"), None, None,
     "inter", "label", [3], "not numbers (e.g. ['yes'])"),
    ("rating-token-bad", one(UIR.replace("rating:float", "rating:token"), "five"), None, None,
     "inter", "rating", [3], "not numbers (e.g. ['five'])"),
    ("label-token-2", one(UIL.replace("label:float", "label:token"), "2"), None, None, "inter",
     "label", [3], "labels lie in [0, 1]"),
    ("label-2", one(UIL, "2"), None, None, "inter", "label", [3], "found [2.0]"),
    ("label-minus-1", one(UIL, "-1", 0), None, None, "inter", "label", [2], "found [-1.0]"),
    ("labels-2-and-minus-1", rows("u1\ti1\t2", "u2\ti2\t-1", "u3\ti1\t1"), None, None, "inter",
     "label", [2, 3], "2 values outside the valid range"),
    ("label-1.5", one(UIL, "1.5", 2), None, None, "inter", "label", [4], "labels lie in"),
    ("exposure-3", extra("exposure", "float", ["1", "3", "0"]), None, None, "inter", "exposure",
     [3], "exposure is 0 (not shown) or 1 (shown); found [3.0]"),
    ("exposure-minus-1", extra("exposure", "float", ["-1", "1", "0"]), None, None, "inter",
     "exposure", [2], "exposure is 0"),
    ("exposure-half", extra("exposure", "float", ["1", "1", "0.5"]), None, None, "inter",
     "exposure", [4], "found [0.5]"),
    ("exposure-token-bad", extra("exposure", "token", ["1", "shown", "0"]), None, None, "inter",
     "exposure", [3], "not numbers"),
    ("position-minus-3", extra("position", "token", ["0", "-3", "1"]), None, None, "inter",
     "position", [3], "positions are non-negative integers"),
    ("position-float-minus-3", extra("position", "float", ["-3", "0", "1"]), None, None, "inter",
     "position", [2], "found [-3"),
    ("position-not-a-number", extra("position", "token", ["0", "1", "top"]), None, None, "inter",
     "position", [4], "not numbers (e.g. ['top'])"),
    ("position-fraction", extra("position", "float", ["0", "1.5", "1"]), None, None, "inter",
     "position", [3], "not whole numbers"),
    ("position-missing", extra("position", "float", ["0", "", "1"]), None, None, "inter",
     "position", [3], "missing values"),
    ("propensity-zero", extra("propensity", "float", ["0.5", "0", "0.25"]), None, None, "inter",
     "propensity", [3], "propensities must lie in (0, 1]; found [0.0]"),
    ("propensity-above-one", extra("propensity", "float", ["0.5", "1", "1.5"]), None, None,
     "inter", "propensity", [4], "found [1.5]"),
    ("propensity-negative", extra("propensity", "float", ["-0.2", "1", "1"]), None, None,
     "inter", "propensity", [2], "found [-0.2]"),
    ("propensity-inf", extra("propensity", "float", ["0.5", "inf", "1"]), None, None, "inter",
     "propensity", [3], "infinite"),
    ("propensity-empty", extra("propensity", "float", ["0.5", "1", ""]), None, None, "inter",
     "propensity", [4], "missing/NaN values"),
    ("nan-label", one(UIL, "nan"), None, None, "inter", "label", [3], "1 missing/NaN values"),
    ("empty-label", one(UIL, ""), None, None, "inter", "label", [3], "missing/NaN values"),
    ("empty-rating", one(UIR, "", 2), None, None, "inter", "rating", [4], "missing/NaN"),
    ("empty-timestamp", rows("u1\ti1\t3\t", "u2\ti1\t4\t5", header=UIRT), None, None, "inter",
     "timestamp", [2], "missing/NaN values"),
    ("inf-timestamp", rows("u1\ti1\t3\t1", "u2\ti1\t4\tinf", header=UIRT), None, None, "inter",
     "timestamp", [3], "infinite"),
    ("timestamp-words", rows("u1\ti1\t3\tyesterday", header=UIRT), None, None, "inter",
     "timestamp", [2], "not numbers (e.g. ['yesterday'])"),
    ("rating-words", one(UIR, "four"), None, None, "inter", "rating", [3], "['four']"),
    ("label-declared-seq", one(UIL.replace("label:float", "label:token_seq"), "1 0"), None, None,
     "inter", "label", [1], "declared label:token_seq"),
    ("user-id-float", rows("1\ti1\t1", header=UIL.replace("user_id:token", "user_id:float")),
     None, None, "inter", "user_id", [1], "ids are user_id:token"),
    ("item-id-token-seq", rows("u1\ti1\t1", header=UIL.replace("item_id:token",
                                                                "item_id:token_seq")),
     None, None, "inter", "item_id", [1], "ids are item_id:token"),
    ("truncated-row", UIL + "u1\ti1\t1\nu2\ti2", None, None, "inter", "label", [3],
     "fewer fields than the header's 3"),
    ("extra-field", rows("u1\ti1\t1", "u2\ti2\t0\t7"), None, None, "inter", None, [3],
     "more fields than the header's 3"),
    ("blank-line-inside", UIL + "u1\ti1\t1\n\nu2\ti2\t0\n", None, None, "inter", "item_id", [3],
     "fewer fields"),
    ("unknown-type", rows(*GOOD, header=UIL.replace("label:float", "label:double")), None, None,
     "inter", "label", [1], "unknown field type 'double'"),
    ("header-without-types", rows(*GOOD, header="user_id\titem_id\tlabel\n"), None, None,
     "inter", "user_id", [1], "is not 'name:type'"),
    ("header-empty-name", rows(*GOOD, header="user_id:token\titem_id:token\t:float\n"), None,
     None, "inter", ":float", [1], "is not 'name:type'"),
    ("duplicate-header-field", rows("u1\tu2\t1", header="user_id:token\tuser_id:token\t"
                                                        "label:float\n"),
     None, None, "inter", "user_id", [1], "duplicate field name"),
    ("comma-separated", UIL.replace("\t", ",") + "u1,i1,1\n", None, None, "inter", None, [1],
     "wrong delimiter"),
    ("semicolon-separated", UIL.replace("\t", ";") + "u1;i1;1\n", None, None, "inter", None, [1],
     "it looks ';'-separated"),
    ("pipe-separated", UIL.replace("\t", "|") + "u1|i1|1\n", None, None, "inter", None, [1],
     "it looks '|'-separated"),
    ("empty-file", "", None, None, "inter", None, None, "empty file: no header and no rows"),
    ("whitespace-file", " \n\n", None, None, "inter", None, None, "empty file"),
    ("header-only", UIL, None, None, "inter", None, None, "no interactions"),
    ("no-user-id-field", "item_id:token\tlabel:float\ni1\t1\n", None, None, "inter", "user_id",
     [1], "missing required field 'user_id'"),
    ("no-item-id-field", "user_id:token\tlabel:float\nu1\t1\n", None, None, "inter", "item_id",
     [1], "missing required field 'item_id'"),
    ("not-utf8", rows("u1\ti1\t1", "caf\xe9\ti2\t1"), None, None, "inter", None, [3],
     "not UTF-8"),
    ("not-utf8-cr-endings", rows("u1\ti1\t1", "u2\ti2\t1", "caf\xe9\ti2\t1").replace("\n", "\r"),
     None, None, "inter", None, [4], "not UTF-8"),
    ("bom-and-inf", "\ufeff" + one(UIR, "inf"), None, None, "inter", "rating", [3], "infinite"),
    ("cr-endings-and-label-2", one(UIL, "2").replace("\n", "\r"), None, None, "inter", "label",
     [3], "labels lie in [0, 1]"),
    ("crlf-and-empty-user", rows("u1\ti1\t1", "\ti2\t0").replace("\n", "\r\n"), None, None,
     "inter", "user_id", [3], "empty ids"),
    ("unknown-item-id", rows(*GOOD, "u1\ti9\t1"), None, ITEMS, "inter", "item_id", [5],
     "unknown item ids (e.g. ['i9'])"),
    ("unknown-user-id", rows(*GOOD, "u7\ti1\t1"), USERS, None, "inter", "user_id", [5],
     "unknown user ids (e.g. ['u7'])"),
    ("duplicate-item-row", rows(*GOOD), None, ITEMS + "i2\tHeat again\n", "item", "item_id", [4],
     "1 duplicate ids (e.g. ['i2'])"),
    ("duplicate-user-row", rows(*GOOD), USERS + "u1\t21\n", None, "user", "user_id", [5],
     "duplicate ids"),
    ("empty-item-id-in-item-file", rows(*GOOD), None, ITEMS + "\tNameless\n", "item", "item_id",
     [4], "empty ids"),
    ("user-file-inf-age", rows(*GOOD), USERS.replace("30", "inf"), None, "user", "age", [3],
     "infinite"),
    ("item-id-float-in-item-file", rows(*GOOD), None,
     ITEMS.replace("item_id:token", "item_id:float").replace("i1", "1").replace("i2", "2"),
     "item", "item_id", [1], "ids are item_id:token"),
    ("float-seq-non-number", rows(*GOOD), None,
     "item_id:token\tvec:float_seq\ni1\t0.5 1\ni2\t0.5 x\n", "item", "vec", [3],
     "has a non-number"),
    ("float-seq-nan", rows(*GOOD), None, "item_id:token\tvec:float_seq\ni1\t0.5 nan\ni2\t1\n",
     "item", "vec", [2], "non-finite number"),
    ("float-seq-inf", rows(*GOOD), None, "item_id:token\tvec:float_seq\ni1\t1\ni2\t-inf 2\n",
     "item", "vec", [3], "non-finite number"),
    ("user-file-truncated", rows(*GOOD), "user_id:token\tage:float\nu1\t20\nu2", None, "user",
     "age", [3], "fewer fields"),
]


def write_folder(tmp_path, inter, user=None, item=None):
    d = tmp_path / "d"
    d.mkdir()
    for suffix, text in (("inter", inter), ("user", user), ("item", item)):
        if text is not None:
            (d / f"d.{suffix}").write_bytes(text.encode("latin-1" if "\xe9" in text
                                                        else "utf-8"))
    return d


def check(e: DataValidationError, file, column, lines, words):
    assert isinstance(e, DataValidationError)
    if file is not None:
        assert e.source is not None and e.source.endswith(file), e.source
        assert file in str(e)
    if column is not None:
        assert e.column == column and repr(column) in str(e), str(e)
    if lines is not None:
        assert e.unit == "lines" and e.rows == lines and f"lines {lines}" in str(e), str(e)
    assert words in str(e), str(e)


@pytest.mark.parametrize(("inter", "user", "item", "fault", "column", "lines", "words"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_recbole_folder(tmp_path, unchanged, inter, user, item, fault, column, lines,
                                  words):
    d = write_folder(tmp_path, inter, user, item)
    with unchanged(d), pytest.raises(DataValidationError) as e:
        crd.load("recbole", path=d)
    check(e.value, f"d.{fault}", column, lines, words)


# the MovieLens-100K loader reads the same format, with required fields of its own
ML_INTER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
ML_ROWS = ["1\t10\t3\t100", "1\t11\t4\t101", "2\t10\t5\t102", "3\t12\t1\t103"]
ML_ITEMS = ("item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
            "10\tToy Story\t1995\tAnimation Comedy\n11\tHeat\t1995\tAction\n"
            "12\tCasino\t1995\tDrama\n")
ML_USERS = ("user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
            "1\t24\tM\twriter\t1\n2\t30\tF\tother\t2\n3\t40\tM\tartist\t3\n")


def ml_rows(i=None, row=None, extra=()):
    out = list(ML_ROWS)
    if i is not None:
        out[i] = row
    return ML_INTER + "\n".join([*out, *extra]) + "\n"


ML_CASES = [
    ("truncated", ML_INTER + "\n".join(ML_ROWS[:3]) + "\n3\t12", None, "inter", "rating", [5],
     "fewer fields than the header's 4"),
    ("bad-header-type", ml_rows().replace("rating:float", "rating:double"), None, "inter",
     "rating", [1], "unknown field type 'double'"),
    ("header-without-types", "user_id\titem_id\trating\ttimestamp\n" + "\n".join(ML_ROWS) + "\n",
     None, "inter", "user_id", [1], "is not 'name:type'"),
    ("nan-rating", ml_rows(2, "2\t10\tnan\t102"), None, "inter", "rating", [4],
     "1 missing/NaN values in a required field"),
    ("rating-not-a-number", ml_rows(1, "1\t11\tfour\t101"), None, "inter", "rating", [3],
     "not numbers (e.g. ['four'])"),
    ("inf-rating", ml_rows(1, "1\t11\tinf\t101"), None, "inter", "rating", [3], "infinite"),
    ("unknown-item", ml_rows(extra=["3\t99\t2\t104"]), None, "inter", "item_id", [6],
     "unknown item ids (e.g. ['99'])"),
    ("unknown-user", ml_rows(extra=["7\t10\t2\t104"]), None, "inter", "user_id", [6],
     "unknown user ids (e.g. ['7'])"),
    ("empty-user", ml_rows(extra=["\t10\t2\t104"]), None, "inter", "user_id", [6], "empty ids"),
    ("duplicate-item-row", ml_rows(), ML_ITEMS + "11\tHeat again\t1995\tAction\n", "item",
     "item_id", [5], "1 duplicate ids (e.g. ['11'])"),
    ("wrong-delimiter", ml_rows().replace("\t", ","), None, "inter", None, [1],
     "','-separated"),
    ("extra-field", ml_rows(1, "1\t11\t4\t101\t7"), None, "inter", None, [3],
     "more fields than the header's 4"),
    ("empty-file", "", None, "inter", None, None, "empty file: no header and no rows"),
    ("header-only", ML_INTER, None, "inter", None, None, "no interactions"),
    ("missing-timestamp-field", "user_id:token\titem_id:token\trating:float\n1\t10\t3\n", None,
     "inter", "timestamp", [1], "missing required field 'timestamp'"),
]


@pytest.mark.parametrize(("inter", "items", "fault", "column", "lines", "words"),
                         [c[1:] for c in ML_CASES], ids=[c[0] for c in ML_CASES])
def test_malformed_ml100k_folder(tmp_path, unchanged, inter, items, fault, column, lines, words):
    d = tmp_path / "ml-100k"
    d.mkdir()
    (d / "ml-100k.inter").write_text(inter)
    (d / "ml-100k.item").write_text(items or ML_ITEMS)
    (d / "ml-100k.user").write_text(ML_USERS)
    with unchanged(d), pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=d)
    check(e.value, f"ml-100k.{fault}", column, lines, words)


# ---------------------------------------------------------------- the writer refuses too
FRAME = pd.DataFrame({"user_id": ["a", "b"], "x": [1.0, 2.0], "tags": [("p",), ("q", "r")]})
TYPES = {"user_id": "token", "x": "float", "tags": "token_seq"}

# (id, column -> replacement values, types override, column named, rows, words)
WRITE_CASES = [
    ("tab-in-token", {"user_id": ["a", "b\tc"]}, {}, "user_id", [1], "tab or line break"),
    ("newline-in-token", {"user_id": ["a\nz", "b"]}, {}, "user_id", [0], "tab or line break"),
    ("cr-in-token", {"user_id": ["a", "b\rc"]}, {}, "user_id", [1], "tab or line break"),
    ("inf-float", {"x": [1.0, np.inf]}, {}, "x", [1], "infinite values cannot be written"),
    ("minus-inf-float", {"x": [-np.inf, 1.0]}, {}, "x", [0], "infinite values"),
    ("word-in-float", {"x": [1.0, "one"]}, {}, "x", [1], "non-numbers"),
    ("empty-token-in-seq", {"tags": [("p", ""), ("q",)]}, {}, "tags", [0], "non-empty"),
    ("separator-in-seq-token", {"tags": [("p",), ("q r",)]}, {}, "tags", [1], "separator ' '"),
    ("tab-in-seq-token", {"tags": [("p\t",), ("q",)]}, {}, "tags", [0], "line breaks"),
    ("string-as-token-seq", {"tags": ["p q", ("q",)]}, {}, "tags", [0], "must be a sequence"),
    ("nan-in-float-seq", {"tags": [(1.0, np.nan), (2.0,)]}, {"tags": "float_seq"}, "tags", [0],
     "non-empty and finite"),
    ("inf-in-float-seq", {"tags": [(1.0,), (np.inf,)]}, {"tags": "float_seq"}, "tags", [1],
     "finite"),
    ("unknown-type", {}, {"x": "double"}, "x", None, "unknown field type 'double'"),
    ("missing-column", {}, {"y": "float"}, "y", None, "column 'y' is not in the table"),
    ("colon-in-name", {}, {"a:b": "token"}, "a:b", None, "cannot be written"),
    ("empty-name", {}, {"": "token"}, "", None, "cannot be written"),
]


@pytest.mark.parametrize(("change", "types", "column", "rows", "words"),
                         [c[1:] for c in WRITE_CASES], ids=[c[0] for c in WRITE_CASES])
def test_writer_refuses_what_would_not_read_back(tmp_path, unchanged, change, types, column,
                                                 rows, words):
    path = write_atomic(tmp_path / "t.user", FRAME, TYPES)  # an existing, valid file
    frame = FRAME.copy()
    for col, values in change.items():
        frame[col] = pd.Series(values, dtype=object)
    with unchanged(tmp_path), pytest.raises(DataValidationError) as e:
        write_atomic(path, frame, {**TYPES, **types})
    err = e.value
    assert err.column == column and err.source == str(path), str(err)
    if rows is not None:
        assert err.rows == rows and f"rows {rows}" in str(err)
    assert words in str(err), str(err)


def test_writer_refuses_an_empty_value_in_a_one_field_table(tmp_path, unchanged):
    with unchanged(tmp_path), pytest.raises(DataValidationError) as e:
        write_atomic(tmp_path / "t.item", pd.DataFrame({"item_id": ["a", ""]}),
                     {"item_id": "token"})
    assert e.value.rows == [1] and "blank line" in str(e.value)
    assert not (tmp_path / "t.item").exists()


# ---------------------------------------------------------------- valid but unusual input
def test_byte_order_mark_is_not_part_of_the_first_field(tmp_path):
    d = write_folder(tmp_path, "\ufeff" + rows(*GOOD))
    data = crd.load("recbole", path=d)
    assert data.user_ids.tolist() == ["u1", "u2", "u3"] and len(data) == 3
    assert data.interactions["label"].tolist() == [1.0, 0.0, 1.0]


@pytest.mark.parametrize("newline", ["\r", "\r\n"], ids=["cr", "crlf"])
def test_cr_and_crlf_line_endings_read_like_lf(tmp_path, newline):
    d = write_folder(tmp_path, rows(*GOOD).replace("\n", newline), item=ITEMS.replace(
        "\n", newline))
    data = crd.load("recbole", path=d)
    assert data.interactions[["user", "item"]].to_numpy().tolist() == [[0, 0], [1, 1], [2, 0]]
    assert data.item_features["title"].tolist() == [("Toy", "Story"), ("Heat",)]


@pytest.mark.parametrize("tokens", [["a", "b", "c"], ["a b", "c d", "e f"]],
                         ids=["one-token-each", "two-tokens-each"])
def test_token_seq_with_equal_lengths_loads_and_round_trips(tmp_path, tokens):
    p = tmp_path / "x.item"
    p.write_text("item_id:token\ttags:token_seq\n" + "".join(
        f"i{k}\t{t}\n" for k, t in enumerate(tokens)))
    table = read_atomic(p)
    assert table.frame["tags"].tolist() == [tuple(t.split()) for t in tokens]
    again = read_atomic(write_atomic(tmp_path / "y.item", table.frame, table.types))
    pd.testing.assert_frame_equal(again.frame, table.frame)
    assert (tmp_path / "y.item").read_bytes() == p.read_bytes()


def test_label_and_position_declared_token_are_read_as_numbers(tmp_path):
    d = write_folder(tmp_path, extra("position", "token", ["0", "2", "1"]).replace(
        "label:float", "label:token"))
    df = crd.load("recbole", path=d).interactions
    assert df["label"].tolist() == [1.0, 0.0, 1.0] and df["position"].dtype == np.int64
    assert df["position"].tolist() == [0, 2, 1]


def test_other_token_fields_are_reported_not_dropped_silently(tmp_path):
    d = write_folder(tmp_path, extra("review", "token_seq", ["good", "bad film", "ok"]))
    with pytest.warns(UserWarning, match=r"fields \['review:token_seq'\] are not carried"):
        data = crd.load("recbole", path=d)
    assert "review" not in data.interactions.columns


def test_valid_tiny_ml100k_folder_loads(tmp_path):
    d = tmp_path / "ml-100k"
    d.mkdir()
    (d / "ml-100k.inter").write_text(ml_rows())
    (d / "ml-100k.item").write_text(ML_ITEMS)
    (d / "ml-100k.user").write_text(ML_USERS)
    data = crd.load("ml-100k", path=d)
    assert (data.n_users, data.n_items, len(data)) == (3, 3, 4)
    assert data.item_text[0] == "Toy Story (1995). Genres: Animation, Comedy"


GROUPLENS = ["1\t10\t3\t881250949", "1\t11\t4\t881250950", "2\t10\t5\t881250951"]
GL_ITEM = ("10|Toy Story (1995)|01-Jan-1995||url" + "|0" * 19 + "\n"
           "11|Heat (1995)|01-Jan-1995||url" + "|0" * 19 + "\n")
GL_USER = "1|24|M|writer|85711\n2|53|F|other|94043\n"


@pytest.mark.parametrize(("row", "column", "lines", "words"), [
    (1, "rating", [2], "infinite"),        # headerless: row 1 is line 2
    (2, "item_id", [3], "unknown item ids"),
    (0, "user_id", [1], "unknown user ids"),
], ids=["inf-rating", "unknown-item", "unknown-user"])
def test_malformed_grouplens_folder_names_headerless_lines(tmp_path, unchanged, row, column,
                                                           lines, words):
    data = list(GROUPLENS)
    u, i, r, ts = data[row].split("\t")
    data[row] = {"rating": f"{u}\t{i}\tinf\t{ts}", "item_id": f"{u}\t99\t{r}\t{ts}",
                 "user_id": f"7\t{i}\t{r}\t{ts}"}[column]
    d = tmp_path / "ml-100k"
    d.mkdir()
    (d / "u.data").write_text("\n".join(data) + "\n")
    (d / "u.item").write_text(GL_ITEM, encoding="latin-1")
    (d / "u.user").write_text(GL_USER)
    with unchanged(d), pytest.raises(DataValidationError) as e:
        crd.load("ml-100k", path=d)
    check(e.value, "u.data", column, lines, words)
