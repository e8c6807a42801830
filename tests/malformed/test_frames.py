"""Malformed in-memory tables: InteractionData raises DataValidationError naming the
source, the column and the 0-based rows at fault (and only those rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalrec.data import DataValidationError, InteractionData

N_USERS, N_ITEMS = 3, 2


def frame(**cols) -> pd.DataFrame:
    base = {"user": np.array([0, 1, 2], dtype=np.int64), "item": np.array([0, 1, 1], np.int64)}
    base.update({k: v for k, v in cols.items() if v is not None})
    return pd.DataFrame(base).drop(columns=[k for k, v in cols.items() if v is None])


nan, inf = np.nan, np.inf
# (id, interactions columns (None drops one), extra InteractionData args, column, rows, words)
CASES = [
    ("nan-user-id", dict(user=[0, nan, 2]), {}, "user", [1],
     "1 missing values (NaN/None); every row needs an integer user"),
    ("none-user-id", dict(user=pd.Series([0, None, 2], dtype=object)), {}, "user", [1],
     "missing values"),
    ("two-nan-users", dict(user=[nan, 1, nan]), {}, "user", [0, 2], "2 missing values"),
    ("fractional-user", dict(user=[0, 1.5, 2]), {}, "user", [1], "not whole numbers (e.g. [1.5])"),
    ("inf-user", dict(user=[0, 1, inf]), {}, "user", [2], "not whole numbers"),
    ("whole-float-users", dict(user=[0.0, 1.0, 2.0]), {}, "user", None,
     "wrong dtype float64; expected integer indices (the values are whole numbers"),
    ("string-user", dict(user=pd.Series([0, "1", 2], dtype=object)), {}, "user", [1],
     "wrong dtype object"),
    ("bool-user", dict(user=[True, False, True]), {}, "user", [0, 1, 2], "wrong dtype bool"),
    ("nan-item-id", dict(item=[0, 1, nan]), {}, "item", [2], "missing values"),
    ("nullable-int-user-with-NA", dict(user=pd.array([0, None, 2], dtype="Int64")), {}, "user",
     [1], "1 missing values"),
    ("nullable-int-position-with-NA", dict(position=pd.array([0, 1, None], dtype="Int64")), {},
     "position", [2], "missing values"),
    ("nullable-float-label-with-NA", dict(label=pd.array([1.0, None, 0.0], dtype="Float64")),
     {}, "label", [1], "missing/NaN"),
    ("nullable-bool-label-with-NA", dict(label=pd.array([True, None, False], dtype="boolean")),
     {}, "label", [1], "missing/NaN"),
    ("item-out-of-range", dict(item=np.array([0, 5, 1], np.int64)), {}, "item", [1],
     "reference unknown items"),
    ("negative-user", dict(user=np.array([0, -1, 2], np.int64)), {}, "user", [1],
     "reference unknown users"),
    ("user-past-n-users", dict(user=np.array([0, 3, 2], np.int64)), {}, "user", [1],
     "valid indices 0..2"),
    ("label-2-and-minus-1", dict(label=[1, 2, -1]), {}, "label", [1, 2],
     "labels lie in [0, 1] (1 positive, 0 negative); found [2, -1]"),
    ("label-1.5", dict(label=[0.0, 1.5, 1.0]), {}, "label", [1], "found [1.5]"),
    ("label-inf", dict(label=[1, inf, 0]), {}, "label", [1], "1 infinite values"),
    ("label-nan", dict(label=[1, nan, 0]), {}, "label", [1], "missing/NaN values"),
    ("label-words", dict(label=pd.Series([1, "yes", 0], dtype=object)), {}, "label", [1],
     "wrong dtype object; expected numbers (e.g. ['yes'])"),
    ("rating-nan", dict(rating=[4.0, nan, 3.0]), {}, "rating", [1], "missing/NaN"),
    ("rating-inf", dict(rating=[inf, 1.0, 3.0]), {}, "rating", [0], "infinite"),
    ("rating-minus-inf", dict(rating=[1.0, 2.0, -inf]), {}, "rating", [2], "infinite"),
    ("rating-words", dict(rating=pd.Series(["a", 1.0, 2.0], dtype=object)), {}, "rating", [0],
     "wrong dtype"),
    ("timestamp-nan", dict(timestamp=[1.0, nan, 3.0]), {}, "timestamp", [1], "missing/NaN"),
    ("timestamp-inf", dict(timestamp=[1.0, 2.0, inf]), {}, "timestamp", [2], "infinite"),
    ("exposure-3", dict(exposure=[1, 3, 0]), {}, "exposure", [1],
     "exposure is 0 (not shown) or 1 (shown); found [3]"),
    ("exposure-half", dict(exposure=[0.5, 1.0, 0.0]), {}, "exposure", [0], "found [0.5]"),
    ("exposure-nan", dict(exposure=[1.0, 0.0, nan]), {}, "exposure", [2], "missing/NaN"),
    ("position-minus-3", dict(position=np.array([0, -3, 1], np.int64)), {}, "position", [1],
     "positions are non-negative integers (0 = top slot); found [-3]"),
    ("position-fraction", dict(position=[0.0, 1.5, 1.0]), {}, "position", [1],
     "not whole numbers"),
    ("position-words", dict(position=pd.Series([0, 1, "top"], dtype=object)), {}, "position",
     [2], "expected integer indices (e.g. ['top'])"),
    ("position-nan", dict(position=[0.0, nan, 1.0]), {}, "position", [1], "missing values"),
    ("propensity-zero", dict(propensity=[0.5, 0.0, 1.0]), {}, "propensity", [1],
     "propensities must lie in (0, 1]; found [0.0]"),
    ("propensity-above-one", dict(propensity=[0.5, 1.0, 1.5]), {}, "propensity", [2],
     "found [1.5]"),
    ("propensity-nan", dict(propensity=[nan, 1.0, 0.5]), {}, "propensity", [0], "missing/NaN"),
    ("propensity-inf", dict(propensity=[0.5, inf, 0.5]), {}, "propensity", [1], "infinite"),
    ("missing-item-column", dict(item=None), {}, "item", None, "missing required column 'item'"),
    ("missing-user-column", dict(user=None), {}, "user", None, "missing required column 'user'"),
    ("n-users-a-string", {}, dict(n_users="3"), "n_users", None,
     "n_users must be an integer, got '3'"),
    ("n-items-a-float", {}, dict(n_items=2.0), "n_items", None, "must be an integer"),
    ("n-users-zero", {}, dict(n_users=0), None, None, "empty data: n_users=0"),
    ("user-ids-wrong-length", {}, dict(user_ids=np.array(["a", "b"], dtype=object)), "user_ids",
     None, "user_ids has 2 entries but n=3"),
    ("duplicate-user-ids", {}, dict(user_ids=np.array(["a", "b", "a"], dtype=object)),
     "user_ids", [2], "duplicate ids ['a']"),
    ("empty-user-id", {}, dict(user_ids=np.array(["a", "", "c"], dtype=object)), "user_ids",
     [1], "1 empty or missing ids"),
    ("none-item-id", {}, dict(item_ids=np.array([None, "b"], dtype=object)), "item_ids", [0],
     "empty or missing ids"),
    ("nan-item-id", {}, dict(item_ids=np.array(["a", np.nan], dtype=object)), "item_ids", [1],
     "empty or missing ids"),
    ("user-features-wrong-length", {}, dict(user_features=pd.DataFrame({"a": [1]})),
     "user_features", None, "user_features has 1 rows but n=3"),
    ("user-features-duplicate-index", {},
     dict(user_features=pd.DataFrame({"age": [1, 2, 3]}, index=[0, 1, 1])), "user_features",
     [2], "duplicate ids in a feature table"),
    ("item-features-not-a-frame", {}, dict(item_features={"a": [1, 2]}), "item_features", None,
     "item_features must be a DataFrame, got dict"),
    ("user-text-wrong-length", {}, dict(user_text=["x"]), "user_text", None,
     "user_text has 1 entries but n=3"),
]


@pytest.mark.parametrize(("cols", "args", "column", "rows", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_malformed_table(cols, args, column, rows, words):
    kwargs = dict(n_users=N_USERS, n_items=N_ITEMS, source="logs.csv")
    kwargs.update(args)
    with pytest.raises(DataValidationError) as e:
        InteractionData(frame(**cols), **kwargs)
    err = e.value
    assert err.source == "logs.csv" and str(err).startswith("in logs.csv"), str(err)
    assert err.column == column, str(err)
    if column is not None:
        assert repr(column) in str(err)
    assert err.rows == (rows or None) and (rows is None or f"rows {rows}" in str(err)), str(err)
    assert words in str(err), str(err)


@pytest.mark.parametrize(("cols", "column", "words"), [
    (dict(user=pd.Series([], dtype=np.int64), item=pd.Series([], dtype=np.int64)), None,
     "empty data: no interactions"),
    ({"user": [0], "item": [0], "label": [1]}, "label", "duplicate column names ['label']"),
], ids=["no-rows", "duplicate-columns"])
def test_malformed_table_shape(cols, column, words):
    df = pd.DataFrame(cols)
    if column == "label":  # two columns named label
        df = pd.concat([df, df[["label"]]], axis=1)
    with pytest.raises(DataValidationError) as e:
        InteractionData(df, N_USERS, N_ITEMS, source="logs.csv")
    assert e.value.column == column and words in str(e.value), str(e.value)


def test_interactions_must_be_a_frame():
    with pytest.raises(DataValidationError, match="interactions must be a pandas DataFrame"):
        InteractionData({"user": [0], "item": [0]}, N_USERS, N_ITEMS, source="logs.csv")


# one bad value, anywhere: the error names that column and exactly the rows holding it
BAD_VALUES = {
    "user": [np.nan, 0.5, -1.0, 7.0],
    "label": [np.nan, np.inf, 2.0, -1.0, 1.5],
    "rating": [np.nan, np.inf, -np.inf],
    "exposure": [np.nan, 3.0, 0.5, -1.0],
    "propensity": [np.nan, 0.0, 1.5, -0.1, np.inf],
    "position": [np.nan, -3.0, 0.5],
    "timestamp": [np.nan, np.inf],
}


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 30), data=st.data())
def test_the_error_names_exactly_the_bad_rows(n, data):
    column = data.draw(st.sampled_from(sorted(BAD_VALUES)))
    bad = data.draw(st.sampled_from(BAD_VALUES[column]))
    rows = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=min(n, 7))))
    rng = np.random.default_rng(n)
    df = pd.DataFrame({"user": rng.integers(0, 5, n).astype(np.int64),
                       "item": rng.integers(0, 4, n).astype(np.int64),
                       "label": rng.integers(0, 2, n).astype(np.float32),
                       "rating": rng.integers(1, 6, n).astype(np.float64),
                       "exposure": rng.integers(0, 2, n).astype(np.float64),
                       "propensity": rng.uniform(0.1, 1.0, n),
                       "position": rng.integers(0, 3, n).astype(np.int64),
                       "timestamp": np.arange(n, dtype=np.float64)})
    InteractionData(df, 5, 4, source="x.csv")  # the clean table is valid
    df[column] = df[column].astype(np.float64)
    df.loc[rows, column] = bad
    if column in ("user", "position") and bad == bad and float(bad).is_integer():
        df[column] = df[column].astype(np.int64)  # whole numbers stay integers
    with pytest.raises(DataValidationError) as e:
        InteractionData(df, 5, 4, source="x.csv")
    assert e.value.column == column, str(e.value)
    assert e.value.rows == rows[:5], (str(e.value), rows)
