"""The public debiasing datasets, from files you have downloaded (nothing is fetched).

* **Coat** (Schnabel et al., "Recommendations as Treatments: Debiasing Learning and
  Evaluation", ICML 2016): ``train.ascii`` (ratings of items the 290 users chose) and
  ``test.ascii`` (ratings of 16 items per user drawn uniformly at random), each a
  users x items matrix of space-separated integers 1-5, ``0`` = not rated; optional
  ``user_item_features/{user,item}_features.ascii`` (0/1 matrices, one row per user / item)
  with ``*_features_map.txt`` naming the columns.
* **Yahoo! R3** (Marlin & Zemel, "Collaborative Prediction and Ranking with Non-Random Missing
  Data", RecSys 2009): ``ydata-ymusic-rating-study-v1_0-train.txt`` (ratings of songs the
  users chose) and ``-test.txt`` (ratings of 10 songs per user chosen at random), tab-separated
  ``user<TAB>song<TAB>rating`` lines, 1-based ids, ratings 1-5.
* **KuaiRec** (Gao et al., "KuaiRec: A Fully-observed Dataset and Insights for Evaluating
  Recommender Systems", CIKM 2022): ``big_matrix.csv`` (the platform's logs) and
  ``small_matrix.csv`` (1,411 users x 3,327 videos, almost fully observed), CSV with the
  header ``user_id,video_id,play_duration,video_duration,time,date,timestamp,watch_ratio``.

Each loader checks the format (shape, field count, value range, header) and raises
:class:`DataValidationError` naming the file and line. The unbiased rows - the randomized
tests of Coat and Yahoo! R3, KuaiRec's fully observed matrix - carry ``policy == "random"``,
the marker the ``random_exposure`` split and the intervened heads (CausE, the Naive-Bayes
propensity) read; the biased logs carry ``policy == "logging"``. ``meta["unbiased_test"]``
says which design the random rows come from. ``label`` is ``rating >= threshold``
(``watch_ratio >= threshold`` for KuaiRec); ``threshold=None`` keeps ratings only.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .frame import from_frame
from .schema import RANDOMIZED, DataValidationError, InteractionData

#: the biased logs' policy; the unbiased rows carry :data:`~causalrec.data.schema.RANDOMIZED`
LOGGING_POLICY, RANDOM_POLICY = "logging", RANDOMIZED
YAHOO_FILES = ("ydata-ymusic-rating-study-v1_0-train.txt",
               "ydata-ymusic-rating-study-v1_0-test.txt")
KUAIREC_COLUMNS = ("user_id", "video_id", "play_duration", "video_duration", "time", "date",
                   "timestamp", "watch_ratio")


def _need(folder: Path, name: str, what: str) -> Path:
    p = folder / name
    if not p.is_file():
        raise DataValidationError(f"missing {name} ({what}); point path= at the folder that "
                                  "holds the downloaded files", source=str(p))
    return p


def read_ascii_matrix(path: Path, values: tuple[int, int] | None = None) -> np.ndarray:
    """A whitespace-separated integer matrix (Coat's ``.ascii`` files), strictly: every line
    the same number of fields, every field an integer (in ``values`` when given)."""
    try:
        lines = [ln for ln in path.read_text(encoding="ascii").splitlines()]
    except UnicodeDecodeError as err:
        raise DataValidationError(f"not an ASCII matrix: {err}", source=str(path)) from err
    nums = [i for i, ln in enumerate(lines) if ln.strip()]
    if not nums:
        raise DataValidationError("empty matrix file", source=str(path))
    rows = [lines[i].split() for i in nums]
    width = np.array([len(r) for r in rows])
    if (width != width[0]).any():
        bad = np.flatnonzero(width != width[0])
        raise DataValidationError(f"rows of a matrix need the same number of fields: line 1 has "
                                  f"{width[0]}, these have {sorted(set(width[bad].tolist()))}",
                                  source=str(path), lines=[nums[i] + 1 for i in bad])
    flat = pd.to_numeric(pd.Series([t for r in rows for t in r]), errors="coerce").to_numpy()
    m = flat.reshape(len(rows), width[0])
    bad = ~np.isfinite(m) | (m != np.round(m))
    if values is not None:
        bad |= (m < values[0]) | (m > values[1])
    if bad.any():
        r = np.flatnonzero(bad.any(axis=1))
        allowed = "" if values is None else f" in {values[0]}..{values[1]}"
        raise DataValidationError(f"fields must be integers{allowed}; e.g. "
                                  f"{[rows[i][int(np.flatnonzero(bad[i])[0])] for i in r[:3]]}",
                                  source=str(path), lines=[nums[i] + 1 for i in r])
    return m.astype(np.int64)


def _feature_table(folder: Path, kind: str, n: int, id_col: str) -> pd.DataFrame:
    """Coat's optional 0/1 feature matrix for ``kind`` ("user"/"item") as a table with ids."""
    table = pd.DataFrame({id_col: np.arange(n)})
    p = folder / "user_item_features" / f"{kind}_features.ascii"
    if not p.is_file():
        return table
    m = read_ascii_matrix(p, (0, 1))
    if m.shape[0] != n:
        raise DataValidationError(f"{m.shape[0]} rows, but the rating matrices have {n} "
                                  f"{kind}s", source=str(p))
    names = [f"feature_{j}" for j in range(m.shape[1])]
    mp = folder / "user_item_features" / f"{kind}_features_map.txt"
    if mp.is_file():
        given = [ln.strip() for ln in mp.read_text().splitlines() if ln.strip()]
        if len(given) == m.shape[1] and len(set(given)) == len(given):
            names = given
    return pd.concat([table, pd.DataFrame(m.astype(np.int8), columns=names)], axis=1)


def _with_label(df: pd.DataFrame, col: str, threshold: float | None) -> dict:
    if threshold is None:
        return {}
    df["label"] = (df[col].to_numpy() >= float(threshold)).astype(np.float32)
    return {"label": "label"}


def load_coat(path: str | os.PathLike, threshold: float | None = 4.0, features: bool = True,
              preprocess: dict | None = None) -> InteractionData:
    """Coat from its folder (``train.ascii``, ``test.ascii`` [, ``user_item_features/``]).

    Args:
        path: the unpacked ``coat`` folder.
        threshold: ``label = rating >= threshold`` (None: ratings only).
        features: attach the user/item feature tables when the files are there.
        preprocess: rules for :mod:`causalrec.data.preprocess`.
    """
    folder = Path(path).expanduser()
    train = read_ascii_matrix(_need(folder, "train.ascii", "biased ratings"), (0, 5))
    test = read_ascii_matrix(_need(folder, "test.ascii", "randomized ratings"), (0, 5))
    if train.shape != test.shape:
        raise DataValidationError(f"train.ascii is {train.shape[0]} x {train.shape[1]} but "
                                  f"test.ascii is {test.shape[0]} x {test.shape[1]}",
                                  source=str(folder / "test.ascii"))
    parts = []
    for m, policy in ((train, LOGGING_POLICY), (test, RANDOM_POLICY)):
        u, i = np.nonzero(m)
        parts.append(pd.DataFrame({"user": u, "item": i, "rating": m[u, i].astype(np.float64),
                                   "policy": policy}))
    df = pd.concat(parts, ignore_index=True)
    n_users, n_items = train.shape
    users = _feature_table(folder, "user", n_users, "user") if features \
        else pd.DataFrame({"user": np.arange(n_users)})
    items = _feature_table(folder, "item", n_items, "item") if features \
        else pd.DataFrame({"item": np.arange(n_items)})
    data = from_frame(df, "user", "item", rating="rating", policy="policy",
                      **_with_label(df, "rating", threshold), items=items, users=users,
                      preprocess=preprocess, name="coat", source=str(folder))
    if len(users.columns) == 1:
        data.user_features = None
    if len(items.columns) == 1:
        data.item_features = None
    data.meta.update({"threshold": threshold, "unbiased_test": {
        "policy": RANDOM_POLICY, "design": "randomized: 16 items per user drawn uniformly"}})
    return data


def read_triples(path: Path, values: tuple[int, int]) -> pd.DataFrame:
    """Tab-separated ``user<TAB>item<TAB>rating`` lines (Yahoo! R3), strictly."""
    try:
        raw = pd.read_csv(path, sep="\t", header=None, names=[0, 1, 2, 3], dtype=str,
                          keep_default_na=False, skip_blank_lines=True, engine="python"
                          ).fillna("")
    except (ValueError, UnicodeDecodeError) as err:
        raise DataValidationError(f"cannot read: {err}", source=str(path)) from err
    if len(raw) == 0:
        raise DataValidationError("empty file", source=str(path))
    fields = (raw[[0, 1, 2, 3]] != "").sum(axis=1).to_numpy()
    bad = (fields != 3) | (raw[3] != "").to_numpy()
    if bad.any():
        raise DataValidationError("each line needs 3 tab-separated fields: user, item, rating",
                                  source=str(path), lines=np.flatnonzero(bad) + 1)
    out = {}
    for j, col in enumerate(("user", "item", "rating")):
        v = pd.to_numeric(raw[j], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        wrong = ~np.isfinite(v) | (v != np.round(v))
        if col == "rating":
            wrong |= (v < values[0]) | (v > values[1])
        if wrong.any():
            what = f"integers in {values[0]}..{values[1]}" if col == "rating" else "integer ids"
            raise DataValidationError(f"{col}s must be {what}; e.g. "
                                      f"{raw.loc[wrong, j].tolist()[:3]}", source=str(path),
                                      column=col, lines=np.flatnonzero(wrong) + 1)
        out[col] = v.astype(np.int64) if col != "rating" else v
    return pd.DataFrame(out)


def load_yahoo_r3(path: str | os.PathLike, threshold: float | None = 4.0,
                  preprocess: dict | None = None) -> InteractionData:
    """Yahoo! R3 from the folder holding ``ydata-ymusic-rating-study-v1_0-{train,test}.txt``.

    Args:
        path: the folder with the two files.
        threshold: ``label = rating >= threshold`` (None: ratings only).
        preprocess: rules for :mod:`causalrec.data.preprocess`.
    """
    folder = Path(path).expanduser()
    parts = []
    for name, policy in zip(YAHOO_FILES, (LOGGING_POLICY, RANDOM_POLICY)):
        what = "user-selected ratings" if policy == LOGGING_POLICY else "randomized ratings"
        parts.append(read_triples(_need(folder, name, what), (1, 5)).assign(policy=policy))
    df = pd.concat(parts, ignore_index=True)
    data = from_frame(df, "user", "item", rating="rating", policy="policy",
                      **_with_label(df, "rating", threshold), preprocess=preprocess,
                      name="yahoo_r3", source=str(folder))
    data.meta.update({"threshold": threshold, "unbiased_test": {
        "policy": RANDOM_POLICY, "design": "randomized: 10 songs per test user at random"}})
    return data


def _kuairec_file(path: Path, policy: str) -> pd.DataFrame:
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except (ValueError, UnicodeDecodeError) as err:
        raise DataValidationError(f"cannot read: {err}", source=str(path)) from err
    if tuple(header) != KUAIREC_COLUMNS:
        raise DataValidationError(f"the header must be {','.join(KUAIREC_COLUMNS)}; found "
                                  f"{','.join(header)}", source=str(path), lines=[1])
    df = pd.read_csv(path, usecols=["user_id", "video_id", "date", "timestamp", "watch_ratio"])
    for col in ("user_id", "video_id", "watch_ratio"):
        v = pd.to_numeric(df[col], errors="coerce")
        bad = v.isna().to_numpy() | ~np.isfinite(v.to_numpy(dtype=np.float64, na_value=0))
        if col != "watch_ratio":
            bad |= (v.to_numpy(dtype=np.float64, na_value=0) % 1 != 0)
        bad |= (v.to_numpy(dtype=np.float64, na_value=0) < 0)
        if bad.any():
            raise DataValidationError("values must be non-negative numbers (integer ids)",
                                      source=str(path), column=col,
                                      lines=np.flatnonzero(bad) + 2)
    ts = pd.to_numeric(df["timestamp"], errors="coerce").to_numpy(dtype=np.float64,
                                                                    na_value=np.nan).copy()
    miss = np.isnan(ts)
    if miss.any():  # some rows lack a time: midnight of their date where there is one
        day = pd.to_numeric(df.loc[miss, "date"], errors="coerce").astype("Int64").astype(str)
        d = pd.to_datetime(day, format="%Y%m%d", errors="coerce", utc=True)
        secs = (d - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        ts[miss] = secs.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.DataFrame({"user": df["user_id"].to_numpy(np.int64),
                         "item": df["video_id"].to_numpy(np.int64), "timestamp": ts,
                         "watch_ratio": df["watch_ratio"].to_numpy(np.float64),
                         "policy": policy})


def load_kuairec(path: str | os.PathLike, threshold: float | None = 2.0,
                 preprocess: dict | None = None) -> InteractionData:
    """KuaiRec from the folder holding ``big_matrix.csv`` and ``small_matrix.csv`` (the
    ``KuaiRec 2.0/data`` folder, or the folder above it).

    Args:
        path: the data folder.
        threshold: ``label = watch_ratio >= threshold`` (2.0: watched at least twice over,
            as in the KuaiRec paper's evaluation); None keeps ``watch_ratio`` only.
        preprocess: rules for :mod:`causalrec.data.preprocess`.
    """
    folder = Path(path).expanduser()
    if not (folder / "small_matrix.csv").exists() and (folder / "data").is_dir():
        folder = folder / "data"
    df = pd.concat([_kuairec_file(_need(folder, "big_matrix.csv", "the platform's logs"),
                                  LOGGING_POLICY),
                    _kuairec_file(_need(folder, "small_matrix.csv", "the fully observed matrix"),
                                  RANDOM_POLICY)], ignore_index=True)
    has_time = not df["timestamp"].isna().any()
    data = from_frame(df, "user", "item", timestamp="timestamp" if has_time else None,
                      policy="policy", keep=["watch_ratio"],
                      **_with_label(df, "watch_ratio", threshold), preprocess=preprocess,
                      name="kuairec", source=str(folder))
    data.meta.update({"threshold": threshold, "timestamps": "complete" if has_time else
                      "dropped: some rows have neither a timestamp nor a date",
                      "unbiased_test": {"policy": RANDOM_POLICY,
                                        "design": "fully observed small matrix"}})
    return data


def write_coat_sample(folder: str | os.PathLike, n_users: int = 290, n_items: int = 300,
                      per_user: int = 24, test_per_user: int = 16, seed: int = 0) -> Path:
    """Write a synthetic dataset in exactly Coat's file format (for trying the pipeline
    without the real files; nothing here is Coat's data).

    True ratings 1-5 come from a rank-4 latent-factor model; ``train.ascii`` holds
    ``per_user`` items per user chosen with probability rising steeply with the rating
    (self-selection: missing not at random), ``test.ascii`` ``test_per_user`` other items
    per user drawn uniformly (missing at random), as in Schnabel et al. 2016. Writes the
    two matrices plus one-hot user (gender) and item (gender, front page) features with
    their maps, atomically; returns ``folder``.
    """
    from ..atomic import write_text

    if per_user + test_per_user > n_items:
        raise ValueError(f"per_user + test_per_user must be <= n_items ({n_items})")
    rng = np.random.default_rng(seed)
    score = rng.normal(size=(n_users, 4)) @ rng.normal(size=(4, n_items)) / 2.0
    true = np.clip(np.digitize(score, np.quantile(score, [0.3, 0.55, 0.75, 0.9])) + 1, 1, 5)
    train, test = np.zeros_like(true), np.zeros_like(true)
    for u in range(n_users):
        w = np.exp(1.2 * true[u])  # higher ratings are far likelier to be self-selected
        chosen = rng.choice(n_items, per_user, replace=False, p=w / w.sum())
        train[u, chosen] = true[u, chosen]
        rest = np.setdiff1d(np.arange(n_items), chosen)
        rand = rng.choice(rest, test_per_user, replace=False)
        test[u, rand] = true[u, rand]
    folder = Path(folder).expanduser()

    def matrix(m: np.ndarray) -> str:
        return "".join(" ".join(str(int(v)) for v in row) + "\n" for row in m)

    write_text(folder / "train.ascii", matrix(train))
    write_text(folder / "test.ascii", matrix(test))
    g = rng.integers(0, 2, n_users)
    write_text(folder / "user_item_features" / "user_features.ascii",
               matrix(np.eye(2, dtype=int)[g]))
    write_text(folder / "user_item_features" / "user_features_map.txt",
               "gender:men\ngender:women\n")
    gi, front = rng.integers(0, 2, n_items), rng.random(n_items) < 0.2
    write_text(folder / "user_item_features" / "item_features.ascii",
               matrix(np.c_[np.eye(2, dtype=int)[gi], front, ~front]))
    write_text(folder / "user_item_features" / "item_features_map.txt",
               "gender:men\ngender:women\nonfrontpage:yes\nonfrontpage:no\n")
    return folder
