"""InteractionData.from_frame: your DataFrame in, ids both ways, bad input named by column and
rows, the new-user flow to trained ID and text models, and load("table") for files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import causalrec as cr
from causalrec.data import DataValidationError, InteractionData
from causalrec.data.frame import index_to_raw, raw_to_index


def new_user_frame(n_users=40, n_items=30, per_user=10, seed=0):
    """Impressions with string ids, timestamps, exposure, click, a 1-5 rating and a review on
    clicked rows, plus an item table with title / description / genre."""
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(n_users), per_user)
    i = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(len(u)) * 600, unit="s")
    exposure = (rng.random(len(u)) < 0.8).astype(int)
    click = exposure * (rng.random(len(u)) < 0.6)
    rating = np.where(click == 1, rng.integers(1, 6, len(u)), np.nan)
    review = np.where(click == 1, [f"review-{k}-of-u_{a:04d}" for k, a in enumerate(u)], None)
    df = pd.DataFrame({"user_id": [f"u_{a:04d}" for a in u],
                       "item_id": [f"i_{b:03d}" for b in i], "ts": ts, "exposure": exposure,
                       "click": click, "rating": rating, "review": review})
    items = pd.DataFrame({"item_id": [f"i_{b:03d}" for b in range(n_items)],
                          "title": [f"Item {b}" for b in range(n_items)],
                          "description": [f"a kind-{b % 5} thing" for b in range(n_items)],
                          "genre": [f"g{b % 3}" for b in range(n_items)]})
    return df, items


def test_new_user_flow_trains_id_and_text_models_without_test_reviews(tmp_path):
    df, items = new_user_frame()
    common = ["logger=none", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
              f"paths.data_dir={tmp_path / 'cache'}", "dataset.split.protocol=temporal",
              "dataset.split.ratios=null"]
    # the flow: 3 lines of Python, no YAML
    data = InteractionData.from_frame(df, user="user_id", item="item_id", label="click",
                                      timestamp="ts", exposure="exposure", text="review",
                                      items=items)
    bpr = cr.experiment.run(["head=bpr", *common], data=data, output_dir=tmp_path / "bpr")
    ips = cr.experiment.run(["encoder=minilm", "head=ips", *common], data=data,
                            output_dir=tmp_path / "ips")
    for m in (bpr, ips):
        assert 0 <= m["test/ndcg@10"] <= 1 and 0 <= m["test/recall@20"] <= 1
    record = json.loads((tmp_path / "ips" / "metrics.json").read_text())
    assert record["data_fingerprint"] == data.fingerprint()
    # the text model's user text: that user's latest training reviews, never a later one
    cfg, dm, _ = cr.experiment.load_model(tmp_path / "ips")
    assert cfg.encoder._target_.endswith("TextIntentEncoder")
    tr, held = dm.split.train.interactions, pd.concat([dm.split.valid.interactions,
                                                        dm.split.test.interactions])
    texts = dm.train_data.user_text
    assert len(held) > 0 and held["text"].notna().any()
    for u in range(data.n_users):
        text = texts[u]
        for review in held.loc[held["user"] == u, "text"].dropna():
            assert review not in text
        mine = tr[(tr["user"] == u) & tr["text"].notna()].sort_values("timestamp",
                                                                      ascending=False)
        expect = " | ".join(mine["text"].head(5)) if len(mine) else "none"
        assert text == f"Recent reviews: {expect}"
        last_train = tr.loc[tr["user"] == u, "timestamp"].max()
        assert (held.loc[held["user"] == u, "timestamp"] >= last_train).all()  # test period
    assert dm.train_data.item_text[0] == "Item 0. a kind-0 thing. g0"


def test_ids_map_both_ways_and_rows_keep_their_values():
    df, items = new_user_frame(n_users=8, n_items=12, per_user=4, seed=3)
    items = items.iloc[::-1].reset_index(drop=True)  # the table order is the index order
    d = InteractionData.from_frame(df, user="user_id", item="item_id", label="click",
                                   timestamp="ts", text="review", items=items, keep=["ts"])
    assert list(d.item_ids) == list(items["item_id"])
    assert list(d.user_ids) == sorted(set(df["user_id"]))
    back = d.interactions
    np.testing.assert_array_equal(index_to_raw(d, back["user"], "user"), df["user_id"])
    np.testing.assert_array_equal(index_to_raw(d, back["item"], "item"), df["item_id"])
    np.testing.assert_array_equal(back["label"], df["click"].to_numpy(np.float32))
    assert back["text"].tolist() == df["review"].tolist()
    assert (back["ts"] == df["ts"]).all()  # a kept column travels unchanged
    np.testing.assert_allclose(back["timestamp"],
                               (df["ts"] - pd.Timestamp(0)) / pd.Timedelta(seconds=1))
    assert list(d.item_features.columns) == ["title", "description", "genre"]
    assert d.item_features["title"].tolist() == items["title"].tolist()
    assert raw_to_index(d, ["u_0003", "u_0000"]).tolist() == [3, 0]
    with pytest.raises(DataValidationError, match="unknown user ids"):
        raw_to_index(d, ["u_9999"])


def test_integer_ids_sort_as_numbers_and_timestamps_parse_alike():
    df = pd.DataFrame({"u": [10, 2, 2, 33], "i": [5, 100, 7, 5], "r": [1.0, 2, 3, 4]})
    d = InteractionData.from_frame(df, user="u", item="i", rating="r")
    assert list(d.user_ids) == ["2", "10", "33"] and list(d.item_ids) == ["5", "7", "100"]
    assert raw_to_index(d, [33, 2]).tolist() == [2, 0]
    when = ["2024-03-01 12:00:00", "2024-03-02", "2024-03-02T06:30:00", "2024-03-05"]
    secs = ((pd.to_datetime(when, format="mixed") - pd.Timestamp(0))
            / pd.Timedelta(seconds=1)).to_numpy()
    assert secs[0] == 1709294400.0  # 2024-03-01 12:00 UTC
    for ts in (when, pd.to_datetime(when, format="mixed"), secs, [str(s) for s in secs]):
        got = InteractionData.from_frame(df.assign(t=ts), user="u", item="i", timestamp="t")
        np.testing.assert_allclose(got.interactions["timestamp"], secs)


BASE = pd.DataFrame({"uid": ["a", "b", "c", "d"], "iid": ["x", "y", "x", "z"],
                     "click": [1, 0, 1, 0], "stars": [5.0, 3.0, 4.0, 1.0],
                     "seen": [1, 1, 1, 0], "pos": [0, 1, 2, 3],
                     "when": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
                     "review": ["good", None, "fine", None]})
ITEMS = pd.DataFrame({"iid": ["x", "y", "z"], "title": ["X", "Y", "Z"]})
ROLES = dict(user="uid", item="iid", label="click", rating="stars", exposure="seen",
             position="pos", timestamp="when", text="review")


@pytest.mark.parametrize("column, values, rows, message", [
    ("uid", ["a", None, "c", "d"], [1], "missing or empty id"),
    ("uid", ["a", "b", np.nan, "d"], [2], "missing or empty id"),
    ("iid", ["x", "  ", "x", "z"], [1], "missing or empty id"),
    ("stars", [5.0, np.inf, 4.0, -np.inf], [1, 3], "infinite"),
    ("stars", [5.0, 3.0, np.nan, 1.0], [2], r"missing \(NaN\)"),
    ("stars", ["5", "three", "4", "1"], [1], "not numbers"),
    ("click", [1, 2, 1, 0], [1], r"outside \{0, 1\}"),
    ("click", [1.0, 0.0, 0.5, 0.0], [2], r"outside \{0, 1\}"),
    ("seen", [1, -1, 1, 0], [1], r"outside \{0, 1\}"),
    ("pos", [0, -1, 2, -3], [1, 3], "negative positions"),
    ("when", ["2024-01-01", "2024-01-02", "not a date", "2024-01-04"], [2], "unparseable"),
    ("when", ["2024-01-01", None, "2024-01-03", "2024-01-04"], [1], "missing timestamps"),
    ("review", [1.5, 2.0, 3.0, 4.0], [0, 1, 2, 3], "not text"),
    ("review", ["good", ["a", "list"], "fine", 7], [1, 3], "not text"),
])
def test_bad_values_name_the_column_and_rows(column, values, rows, message):
    df = BASE.assign(**{column: values})
    with pytest.raises(DataValidationError, match=message) as err:
        InteractionData.from_frame(df, **ROLES, items=ITEMS)
    assert err.value.column == column and err.value.rows == rows
    assert f"column {column!r}" in str(err.value) and str(rows) in str(err.value)


def test_item_table_duplicates_and_missing_ids():
    dup = pd.DataFrame({"iid": ["x", "y", "x", "z"], "title": list("XYXZ")})
    with pytest.raises(DataValidationError, match="duplicate ids.*'x'") as err:
        InteractionData.from_frame(BASE, **ROLES, items=dup)
    assert (err.value.column, err.value.rows, err.value.source) == ("iid", [2], "item table")
    short = ITEMS[ITEMS["iid"] != "z"]
    with pytest.raises(DataValidationError, match=r"missing from the items table.*'z'") as err:
        InteractionData.from_frame(BASE, **ROLES, items=short)
    assert (err.value.column, err.value.rows) == ("iid", [3])
    users = pd.DataFrame({"uid": ["a", "b", "c"]})
    with pytest.raises(DataValidationError, match="missing from the users table") as err:
        InteractionData.from_frame(BASE, **ROLES, users=users)
    assert (err.value.column, err.value.rows) == ("uid", [3])
    with pytest.raises(DataValidationError, match="'klick' is not in the frame"):
        InteractionData.from_frame(BASE, **{**ROLES, "label": "klick"})


def test_preprocessing_drops_invalid_rows_instead_and_reports_them():
    df = BASE.assign(click=[1, 2, 1, 0], uid=["a", "b", None, "d"])
    d = InteractionData.from_frame(df, **ROLES, items=ITEMS,
                                   preprocess={"drop_invalid": True})
    assert list(d.user_ids) == ["a", "d"]
    report = cr.data.preprocess_report(d)
    row = report.set_index("step").loc["missing or invalid values"]
    assert (row["rows_before"], row["removed"], row["rows_after"]) == (4, 2, 2)
    assert "user: 1 missing or empty ids" in row["detail"]
    assert r"label: 1 values outside {0, 1}" in row["detail"]


def test_threshold_makes_labels_from_your_rating_column():
    df = pd.DataFrame({"u": ["a", "b", "c"], "i": ["x", "y", "x"], "stars": [5.0, 2.0, 4.0]})
    d = InteractionData.from_frame(df, user="u", item="i", rating="stars",
                                   preprocess={"threshold": {"rating": 4}})
    assert d.target_column == "label" and d.interactions["label"].tolist() == [1, 0, 1]
    assert d.interactions["rating"].tolist() == [5.0, 2.0, 4.0]


def test_table_loader_reads_csv_parquet_and_jsonl_alike(tmp_path):
    df = pd.DataFrame({"uid": ["007", "12", "007", "5"], "sku": ["A", "B", "B", "C"],
                       "click": [1, 0, 1, 1], "t": [3.0, 1.0, 2.0, 4.0],
                       "review": ["nice", None, "ok", "meh"]})
    items = pd.DataFrame({"sku": ["C", "B", "A"], "title": ["c", "b", "a"]})
    df.to_csv(tmp_path / "x.csv", index=False)
    df.to_parquet(tmp_path / "x.parquet")
    df.to_json(tmp_path / "x.jsonl", orient="records", lines=True)
    items.to_csv(tmp_path / "items.csv", index=False)
    cols = {"user": "uid", "item": "sku", "label": "click", "timestamp": "t", "text": "review"}
    got = [cr.data.load("table", path=tmp_path / f"x.{ext}", columns=cols,
                        items=tmp_path / "items.csv") for ext in ("csv", "parquet", "jsonl")]
    assert list(got[0].user_ids) == ["5", "007", "12"]  # leading zeros kept, numeric order
    assert list(got[0].item_ids) == ["C", "B", "A"]
    assert got[0].interactions["text"].tolist()[:1] == ["nice"]
    assert len({g.fingerprint() for g in got}) == 1
    assert all(g.interactions["text"].isna().tolist() == [False, True, False, False]
               for g in got)
    with pytest.raises(DataValidationError, match=r"no column\(s\) \['klick'\]"):
        cr.data.load("table", path=tmp_path / "x.csv", columns={**cols, "label": "klick"})
    (tmp_path / "items.csv.bak").write_text("sku\nA\n")
    with pytest.raises(DataValidationError, match="cannot tell the format"):
        cr.data.load("table", path=tmp_path / "items.csv.bak")
    with pytest.raises(DataValidationError, match="no such file"):
        cr.data.load("table", path=tmp_path / "nope.csv")


def test_table_config_builds_a_datamodule_with_preprocessing(tmp_path):
    from hydra.utils import instantiate

    from causalrec.experiment.api import compose

    df, items = new_user_frame(n_users=12, n_items=15, per_user=6)
    df.to_parquet(tmp_path / "logs.parquet")
    cfg = compose(["dataset=table", f"dataset.source.path={tmp_path / 'logs.parquet'}",
                   "dataset.source.columns={user: user_id, item: item_id, label: click}",
                   "dataset.source.preprocess.item_inter_num_interval='[4,inf)'",
                   "dataset.sampling=pointwise", "dataset.train_rows=all"])
    dm = instantiate(cfg.dataset, _recursive_=True)
    dm.setup()
    counts = dm.data.item_popularity()
    assert counts.min() >= 4 and len(dm.data.item_ids) == (
        df["item_id"].value_counts() >= 4).sum()  # one round suffices: users keep 6 rows
    assert "k-core filtering" in cr.data.preprocess_report(dm.data)["step"].tolist()


def test_run_with_data_refuses_what_is_not_interaction_data(tmp_path):
    with pytest.raises(DataValidationError, match="must be an InteractionData"):
        cr.experiment.run(["logger=none"], data=pd.DataFrame({"a": [1]}),
                          output_dir=tmp_path / "r")
