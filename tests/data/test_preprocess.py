"""Preprocessing: every rule against a brute-force oracle, and the removal report's counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalrec as cr
from causalrec.data import DataValidationError, InteractionData
from causalrec.data.frame import canonical
from causalrec.data.preprocess import Preprocess, in_interval, parse_interval


def frame(seed=0, n=400, n_users=40, n_items=30):
    rng = np.random.default_rng(seed)
    u = rng.zipf(1.6, n) % n_users
    i = rng.zipf(1.4, n) % n_items
    return pd.DataFrame({"user": [f"u{a}" for a in u], "item": [f"i{b}" for b in i],
                         "rating": rng.integers(1, 6, n).astype(float),
                         "timestamp": rng.permutation(n).astype(float)})


def run(df, **rules):
    return Preprocess.from_config(rules).apply(canonical(df, {c: c for c in df.columns}))


def kcore_oracle(rows, lo_user, lo_item):
    """Repeat: drop users with < lo_user rows and items with < lo_item rows, until stable."""
    rows = list(rows)
    while True:
        cu, ci = {}, {}
        for u, i in rows:
            cu[u] = cu.get(u, 0) + 1
            ci[i] = ci.get(i, 0) + 1
        keep = [(u, i) for u, i in rows if cu[u] >= lo_user and ci[i] >= lo_item]
        if len(keep) == len(rows):
            return keep
        rows = keep


@pytest.mark.parametrize("seed, ku, ki", [(0, 5, 5), (1, 3, 8), (2, 10, 2)])
def test_kcore_matches_the_fixed_point_oracle(seed, ku, ki):
    df = frame(seed)
    out, report = run(df, user_inter_num_interval=f"[{ku},inf)",
                      item_inter_num_interval=f"[{ki},inf)")
    expect = kcore_oracle(zip(df["user"], df["item"]), ku, ki)
    assert list(zip(out["user"], out["item"])) == expect  # same rows, same order
    assert out["user"].value_counts().min() >= ku and out["item"].value_counts().min() >= ki
    row = report.iloc[-1]
    assert (row["step"], row["rows_before"], row["removed"], row["rows_after"]) == (
        "k-core filtering", len(df), len(df) - len(expect), len(expect))
    assert (row["users"], row["items"]) == (len({u for u, _ in expect}),
                                            len({i for _, i in expect}))


def test_intervals_follow_recbole_syntax():
    p = parse_interval("[1,3);(4,inf]", "x")
    v = np.array([0.5, 1, 2.9, 3, 4, 4.1, np.inf, np.nan])
    assert in_interval(v, p).tolist() == [False, True, True, False, False, True, True, False]
    for bad in ("1,3", "[3,1]", "[a,2)", "[1,2"):
        with pytest.raises(DataValidationError, match="interval"):
            parse_interval(bad, "user_inter_num_interval")
    with pytest.raises(DataValidationError, match=r"unknown preprocess options \['kcore'\]"):
        Preprocess.from_config({"kcore": 5})
    with pytest.raises(DataValidationError, match="rm_dup_inter must be"):
        Preprocess.from_config({"rm_dup_inter": "newest"})


def test_duplicates_value_interval_and_threshold():
    df = pd.DataFrame({"user": ["a", "a", "a", "b", "b", "b"],
                       "item": ["x", "x", "y", "x", "x", "x"],
                       "rating": [1.0, 5.0, 3.0, 2.0, 2.0, 4.0],
                       "timestamp": [30.0, 10.0, 20.0, 5.0, 5.0, 1.0]})
    out, rep = run(df, drop_exact_duplicates=True)
    assert out["_row"].tolist() == [0, 1, 2, 4, 5]  # rows 3 and 4 are identical: last kept
    out, _ = run(df, rm_dup_inter="last")  # latest (user, item) row by time
    assert out["_row"].tolist() == [0, 2, 4]
    out, _ = run(df, rm_dup_inter="first")
    assert out["_row"].tolist() == [1, 2, 5]
    out, rep = run(df, val_interval={"rating": "[2,4]"})
    assert out["_row"].tolist() == [2, 3, 4, 5] and rep["removed"].tolist() == [0, 2]
    out, rep = run(df, threshold={"rating": 3})
    assert out["label"].tolist() == [0, 1, 1, 0, 0, 1] and rep["removed"].sum() == 0
    assert "3 positives" in rep["detail"].iloc[-1]
    with pytest.raises(DataValidationError, match="names column 'stars'"):
        run(df, threshold={"stars": 3})


def test_min_positives_time_order_and_text_normalisation():
    df = pd.DataFrame({"user": ["a", "a", "b", "c", "c"], "item": ["x", "y", "x", "y", "z"],
                       "label": [1, 1, 0, 1, 0], "timestamp": [5.0, 1.0, 3.0, 2.0, 4.0],
                       "text": ["  Great&nbsp;fit &amp; warm\n\n", None, "   ", "ok", "ok"]})
    out, rep = run(df, min_user_positives=2)
    assert out["user"].tolist() == ["a", "a"] and rep["detail"].iloc[-1] == "2 users removed"
    out, rep = run(df, time_order=True)
    assert out["timestamp"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert rep["detail"].iloc[-1] == "4 rows moved"
    out, rep = run(df, normalize_text=True)
    assert out["text"].iloc[0] == "Great fit & warm"  # &nbsp; is whitespace too
    assert out["text"].iloc[1:3].isna().all() and out["text"].iloc[3] == "ok"
    assert rep["detail"].iloc[-1] == "2 reviews changed, 1 blank reviews now missing"


def test_from_frame_report_counts_each_rule_and_drops_filtered_items():
    df = frame(3).assign(click=lambda d: (d["rating"] >= 4).astype(int))
    items = pd.DataFrame({"item": [f"i{b}" for b in range(30)], "title": list(range(30))})
    rules = {"drop_exact_duplicates": True, "rm_dup_inter": "last",
             "item_inter_num_interval": "[3,inf)", "time_order": True}
    d = InteractionData.from_frame(df, user="user", item="item", label="click",
                                   timestamp="timestamp", items=items, preprocess=rules)
    rep = cr.data.preprocess_report(d)
    assert rep["step"].tolist() == ["input", "exact duplicates", "duplicate (user, item) pairs",
                                    "k-core filtering", "time ordering"]
    assert (rep["rows_before"].iloc[1:].to_numpy() == rep["rows_after"].iloc[:-1].to_numpy()).all()
    assert (rep["rows_before"] - rep["removed"] == rep["rows_after"]).all()
    assert rep["rows_after"].iloc[-1] == len(d)
    # items the k-core removed leave the item table too (RecBole drops them from item_feat)
    assert d.n_items == rep["items"].iloc[-1] and d.item_popularity().min() >= 3
    assert d.item_features["title"].tolist() == [int(x[1:]) for x in d.item_ids]
    assert (np.diff(d.interactions["timestamp"].to_numpy()) >= 0).all()


def test_preprocess_an_existing_dataset_keeps_features_and_text():
    base = cr.data.generate_interactions(n_users=50, n_items=40, per_user=6, seed=4)
    base.item_features = pd.DataFrame({"title": [f"T{j}" for j in range(40)]})
    base.item_text = [f"text {j}" for j in range(40)]
    out = cr.data.preprocess_data(base, item_inter_num_interval="[8,inf)")
    counts = base.item_popularity()
    kept = np.flatnonzero(counts >= 8)
    assert list(out.item_ids) == [base.item_ids[j] for j in kept]
    assert out.item_text == [f"text {j}" for j in kept]
    assert out.item_features["title"].tolist() == [f"T{j}" for j in kept]
    assert len(out) == counts[kept].sum() and out.n_users == 50
    assert cr.data.preprocess_report(out)["removed"].sum() == len(base) - len(out)


def test_every_option_of_the_table_config_is_a_rule():
    from causalrec.experiment.api import compose

    cfg = compose(["dataset=table", "dataset.source.path=x.csv"])
    rules = Preprocess.from_config(dict(cfg.dataset.source.preprocess))
    assert rules.normalize_text and not rules.drop_invalid
