"""Coat, Yahoo! R3 and KuaiRec from small files written in exactly their formats: rows,
policies (the random rows are what the random_exposure split and the intervened heads
read), labels, features, and errors naming file and line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalrec as cr
from causalrec.data import DataValidationError

COAT_TRAIN = "0 4 0 0 5\n1 0 0 3 0\n0 0 2 0 4\n"
COAT_TEST = "3 0 0 0 0\n0 5 0 0 0\n0 0 0 1 0\n"


def write_coat(folder, train=COAT_TRAIN, test=COAT_TEST, features=True):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.ascii").write_text(train)
    (folder / "test.ascii").write_text(test)
    if features:
        f = folder / "user_item_features"
        f.mkdir(exist_ok=True)
        (f / "user_features.ascii").write_text("1 0\n0 1\n1 0\n")
        (f / "user_features_map.txt").write_text("gender:men\ngender:women\n")
        (f / "item_features.ascii").write_text("1 0 1\n0 1 0\n1 0 0\n0 1 1\n1 0 0\n")
        (f / "item_features_map.txt").write_text("gender:men\ngender:women\nonfrontpage:yes\n")
    return folder


def test_coat_rows_policies_labels_and_features(tmp_path):
    d = cr.data.load("coat", path=write_coat(tmp_path / "coat"))
    df = d.interactions
    assert (d.n_users, d.n_items, len(d)) == (3, 5, 9)
    got = {(d.user_ids[u], d.item_ids[i], r, p)
           for u, i, r, p in zip(df["user"], df["item"], df["rating"], df["policy"])}
    assert got == {("0", "1", 4, "logging"), ("0", "4", 5, "logging"), ("1", "0", 1, "logging"),
                   ("1", "3", 3, "logging"), ("2", "2", 2, "logging"), ("2", "4", 4, "logging"),
                   ("0", "0", 3, "random"), ("1", "1", 5, "random"), ("2", "3", 1, "random")}
    assert ((df["rating"] >= 4) == (df["label"] == 1)).all()
    assert list(d.user_features.columns) == ["gender:men", "gender:women"]
    assert d.item_features["onfrontpage:yes"].tolist() == [1, 0, 0, 1, 0]
    assert d.meta["unbiased_test"]["policy"] == "random"
    # the marker the intervened heads read picks exactly the randomized test.ascii rows
    from causalrec.heads.randomized import randomized_mask

    rand = randomized_mask(df, "policy", "random")
    assert sorted(zip(df["user"][rand], df["item"][rand])) == [(0, 0), (1, 1), (2, 3)]
    no_feat = cr.data.load("coat", path=write_coat(tmp_path / "bare", features=False),
                           threshold=None)
    assert no_feat.user_features is None and "label" not in no_feat.interactions


def test_coat_config_trains_on_logs_and_evaluates_on_random_rows(tmp_path):
    from causalrec.experiment.api import compose
    from causalrec.models.build import build_datamodule

    folder = cr.data.write_coat_sample(tmp_path / "coat", n_users=30, n_items=40, per_user=8,
                                       test_per_user=6)
    cfg = compose(["dataset=coat", f"dataset.source.path={folder}", "head=naive"])
    dm = build_datamodule(cfg, seed=0)
    dm.setup()
    assert set(dm.split.train.interactions["policy"]) == {"logging"}
    assert set(dm.split.valid.interactions["policy"]) == {"random"}
    assert set(dm.split.test.interactions["policy"]) == {"random"}
    assert len(dm.split.valid) + len(dm.split.test) == 30 * 6
    # heads that learn from the randomized sample get a share of it in training
    cfg = compose(["dataset=coat", f"dataset.source.path={folder}", "head=cause",
                   "dataset.split.train_ratio=0.1"])
    dm_cause = build_datamodule(cfg, seed=0)
    dm_cause.setup()
    assert (dm_cause.split.train.interactions["policy"] == "random").sum() == 18  # 10% of 180
    # the sample is missing-not-at-random like Coat: self-selected ratings are higher
    df = dm.data.interactions
    assert df.loc[df.policy == "logging", "rating"].mean() > \
        df.loc[df.policy == "random", "rating"].mean() + 0.5


@pytest.mark.parametrize("train, test, message, lines", [
    ("0 4 0 0 5\n1 0 0 3\n0 0 2 0 4\n", COAT_TEST, "same number of fields", [2]),
    ("0 4 0 0 5\n1 0 0 3 0\n0 0 7 0 4\n", COAT_TEST, r"integers in 0\.\.5", [3]),
    ("0 4 0 0 5\n1 0 x 3 0\n0 0 2 0 4\n", COAT_TEST, "integers", [2]),
])
def test_coat_format_errors_name_file_and_line(tmp_path, train, test, message, lines):
    with pytest.raises(DataValidationError, match=message) as err:
        cr.data.load("coat", path=write_coat(tmp_path / "c", train, test))
    assert err.value.rows == lines and err.value.source.endswith("train.ascii")
    with pytest.raises(DataValidationError, match=r"train.ascii is 3 x 5 but test.ascii is 2 x 5"):
        cr.data.load("coat", path=write_coat(tmp_path / "d", COAT_TRAIN, "1 0 0 0 0\n0 0 0 0 2\n"))
    with pytest.raises(DataValidationError, match="missing train.ascii"):
        cr.data.load("coat", path=tmp_path / "nothing")


def write_yahoo(folder, train="1\t1\t5\n1\t3\t1\n2\t2\t4\n3\t1\t2\n", test="1\t2\t3\n2\t3\t5\n"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ydata-ymusic-rating-study-v1_0-train.txt").write_text(train)
    (folder / "ydata-ymusic-rating-study-v1_0-test.txt").write_text(test)
    return folder


def test_yahoo_r3_rows_ids_and_policies(tmp_path):
    d = cr.data.load("yahoo_r3", path=write_yahoo(tmp_path / "y"))
    df = d.interactions
    assert list(d.user_ids) == ["1", "2", "3"] and list(d.item_ids) == ["1", "2", "3"]
    got = [(d.user_ids[u], d.item_ids[i], r, p, lab) for u, i, r, p, lab in
           zip(df["user"], df["item"], df["rating"], df["policy"], df["label"])]
    assert got == [("1", "1", 5, "logging", 1), ("1", "3", 1, "logging", 0),
                   ("2", "2", 4, "logging", 1), ("3", "1", 2, "logging", 0),
                   ("1", "2", 3, "random", 0), ("2", "3", 5, "random", 1)]
    split = cr.data.make_split(d, "random_exposure", seed=0)
    assert len(split.valid) + len(split.test) == 2 and len(split.train) == 4


@pytest.mark.parametrize("train, message, lines", [
    ("1\t1\t5\n1\t3\n2\t2\t4\n", "3 tab-separated fields", [2]),
    ("1\t1\t5\n1\t3\t1\t9\n", "3 tab-separated fields", [2]),
    ("1\t1\t5\n1\t3\t0\n2\t2\t6\n", r"ratings must be integers in 1\.\.5", [2, 3]),
    ("1\t1\t5\nu7\t3\t1\n", "users must be integer ids", [2]),
])
def test_yahoo_r3_format_errors(tmp_path, train, message, lines):
    with pytest.raises(DataValidationError, match=message) as err:
        cr.data.load("yahoo_r3", path=write_yahoo(tmp_path / "y", train))
    assert err.value.rows == lines and err.value.unit == "lines"


KUAIREC_HEADER = "user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio\n"


def write_kuairec(folder, big_rows=None, small_rows=None, header=KUAIREC_HEADER):
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    big_rows = big_rows or ["0,3,4381,6067,2020-07-05 05:27:48.378,20200705.0,1593898068.378,0.722",
                            "0,9,13020,4000,2020-07-05 06:00:00.000,20200705.0,1593900000.0,3.255",
                            "1,3,6000,6067,,20200706.0,,0.989"]
    small_rows = small_rows or ["0,5,11000,5000,2020-07-06 01:00:00.000,20200706.0,1593997200.0,2.2",
                                "1,5,1000,5000,2020-07-06 02:00:00.000,20200706.0,1594000800.0,0.2"]
    (data / "big_matrix.csv").write_text(header + "\n".join(big_rows) + "\n")
    (data / "small_matrix.csv").write_text(header + "\n".join(small_rows) + "\n")
    return folder


def test_kuairec_labels_timestamps_and_the_fully_observed_rows(tmp_path):
    d = cr.data.load("kuairec", path=write_kuairec(tmp_path / "KuaiRec 2.0"))
    df = d.interactions
    assert df["policy"].tolist() == ["logging"] * 3 + ["random"] * 2
    assert df["label"].tolist() == [0, 1, 0, 1, 0]  # watch_ratio >= 2
    assert df["watch_ratio"].tolist() == [0.722, 3.255, 0.989, 2.2, 0.2]
    # the row without a time gets midnight of its date
    assert df["timestamp"].tolist()[:3] == [1593898068.378, 1593900000.0, 1593993600.0]
    assert d.meta["unbiased_test"]["design"] == "fully observed small matrix"
    assert list(d.item_ids) == ["3", "5", "9"]
    undated = write_kuairec(tmp_path / "k2", big_rows=["0,3,1,2,,,,0.5", "1,4,1,2,,,,2.5"])
    u = cr.data.load("kuairec", path=undated / "data")
    assert "timestamp" not in u.interactions and u.meta["timestamps"].startswith("dropped")


def test_kuairec_format_errors(tmp_path):
    bad_header = KUAIREC_HEADER.replace("watch_ratio", "ratio")
    with pytest.raises(DataValidationError, match="the header must be") as err:
        cr.data.load("kuairec", path=write_kuairec(tmp_path / "a", header=bad_header))
    assert err.value.rows == [1] and err.value.source.endswith("big_matrix.csv")
    rows = ["0,3,1,2,,20200705,1593898068.0,0.5", "x,4,1,2,,20200705,1593898068.0,0.5"]
    with pytest.raises(DataValidationError, match="non-negative numbers") as err:
        cr.data.load("kuairec", path=write_kuairec(tmp_path / "b", big_rows=rows))
    assert (err.value.column, err.value.rows) == ("user_id", [3])
    (write_kuairec(tmp_path / "c") / "data" / "small_matrix.csv").unlink()
    with pytest.raises(DataValidationError, match="missing small_matrix.csv"):
        cr.data.load("kuairec", path=tmp_path / "c" / "data")


def test_public_loaders_take_preprocessing(tmp_path):
    folder = cr.data.write_coat_sample(tmp_path / "coat", n_users=20, n_items=30, per_user=6,
                                       test_per_user=4)
    d = cr.data.load("coat", path=folder, preprocess={"item_inter_num_interval": "[5,inf)"})
    rep = cr.data.preprocess_report(d)
    assert rep["step"].tolist() == ["input", "k-core filtering"]
    assert d.item_popularity().min() >= 5 and d.n_items == rep["items"].iloc[-1]
    assert len(d.item_features) == d.n_items
    raw = np.loadtxt(folder / "train.ascii"), np.loadtxt(folder / "test.ascii")
    assert rep["rows_before"].iloc[0] == sum(int((m > 0).sum()) for m in raw)
    assert isinstance(rep, pd.DataFrame)
