"""Text views: item text from templates, user text from the training split only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalrec.data as crd
from causalrec.data.text_views import TextTemplates, build_text_views, user_texts


@pytest.fixture(scope="module")
def ml_split():
    data = crd.load("ml-100k", quiet=True)
    return data, crd.make_split(data, "random", seed=0)


def test_item_text_from_the_ml100k_config(ml_split):
    from causalrec.experiment.api import compose

    cfg = compose(["dataset=ml100k"])
    _, split = ml_split
    tmpl = TextTemplates.from_config(dict(cfg.dataset.text))
    users, items = build_text_views(split.train, tmpl)
    assert items[0] == "Toy Story (1995). Genres: Animation, Children's, Comedy"
    assert items[1] == "GoldenEye (1995). Genres: Action, Adventure, Thriller"
    assert len(users) == 943 and users[0].startswith("A 24-year-old man (technician) who watched ")
    assert tmpl.version().startswith("ml100k-text-v1-")
    # deterministic, and the version changes with the template
    assert build_text_views(split.train, tmpl) == (users, items)
    other = TextTemplates.from_config({**dict(cfg.dataset.text), "history_items": 3})
    assert other.version() != tmpl.version()


def test_user_text_never_contains_valid_or_test_items(ml_split):
    data, split = ml_split
    t = TextTemplates(user="{history}", history_field="item_id", history_items=10_000,
                      history_separator=" ")
    texts = user_texts(split.train, t)
    tr = split.train.interactions
    held = pd.concat([split.valid.interactions, split.test.interactions])
    for u in range(data.n_users):
        shown = set(texts[u].split()) - {"none"}
        train_items = set(data.item_ids[tr.loc[tr.user == u, "item"]])
        held_items = set(data.item_ids[held.loc[held.user == u, "item"]])
        assert shown == train_items  # the full history, and nothing else
        assert shown.isdisjoint(held_items)


def test_history_is_most_recent_first_and_truncated():
    df = pd.DataFrame({"user": np.array([0, 0, 0, 1], np.int64),
                       "item": np.array([0, 1, 2, 2], np.int64),
                       "timestamp": [10.0, 30.0, 20.0, 5.0]})
    feats = pd.DataFrame({"title": ["A", "B", "C"]})
    data = crd.InteractionData(df, 3, 3, item_features=feats,
                               user_features=pd.DataFrame({"age": [30, 40, 50]}))
    t = TextTemplates(user="{age}: {history} ({n_history})", history_items=2)
    assert user_texts(data, t) == ["30: B; C (3)", "40: C (1)", "50: none (0)"]


def test_template_with_unknown_field_is_a_clear_error(ml_split):
    _, split = ml_split
    with pytest.raises(crd.DataValidationError, match=r"uses \['director'\].*available"):
        build_text_views(split.train, {"item": "{title} by {director}"})
    with pytest.raises(crd.DataValidationError, match="unknown text template keys"):
        TextTemplates.from_config({"itme": "{title}"})


def test_reviews_are_the_latest_training_reviews_of_the_user_and_the_item():
    df = pd.DataFrame({"user": np.array([0, 0, 0, 0, 1, 1], np.int64),
                       "item": np.array([0, 1, 2, 0, 2, 1], np.int64),
                       "timestamp": [1.0, 4.0, 3.0, 2.0, 5.0, 6.0],
                       "text": ["first", "fourth", None, "second", "   ", "b-late"]})
    data = crd.InteractionData(df, 3, 3, item_features=pd.DataFrame({"title": list("ABC")}))
    t = TextTemplates(user="{reviews} ({n_reviews})", item="{title}: {reviews}",
                      review_items=2, review_separator=" / ")
    users, items = build_text_views(data, t)
    # most recent first, at most 2, blank and missing reviews skipped
    assert users == ["fourth / second (3)", "b-late (1)", "none (0)"]
    assert items == ["A: second / first", "B: b-late / fourth", "C: none"]
    with pytest.raises(crd.DataValidationError, match="no 'text' column"):
        build_text_views(data.with_interactions(df.drop(columns="text")), t)


def test_template_versions_without_reviews_are_unchanged():
    # the versions before reviews existed: embedding caches keyed on them stay valid
    assert TextTemplates().version() == "text-v1-cb5105b749f0"
    assert TextTemplates(item="{title}", user="{history}", history_items=3).version() == \
        "text-v1-f75ce87be091"
    with_reviews = TextTemplates(user="{reviews}")
    assert with_reviews.version() != TextTemplates(user="{reviews}", review_items=2).version()


def test_datamodule_user_text_never_holds_a_validation_or_test_review():
    df = pd.DataFrame({"uid": np.repeat([f"u{k}" for k in range(6)], 5),
                       "iid": [f"i{(k * 3 + j) % 9}" for k in range(6) for j in range(5)],
                       "t": np.tile(np.arange(5.0), 6) + np.repeat(np.arange(6.0), 5) * 10,
                       "click": 1})
    df["review"] = [f"r{n}" for n in range(len(df))]
    data = crd.InteractionData.from_frame(df, user="uid", item="iid", label="click",
                                          timestamp="t", text="review")
    dm = crd.CausalRecDataModule(data, split={"protocol": "temporal"}, sampling="pointwise")
    dm.setup()
    for u in range(6):
        # temporal split: reviews 3, 4 of each user are validation / test; 0-2 are training
        assert dm.train_data.user_text[u] == f"Recent reviews: r{5 * u + 2} | r{5 * u + 1} | " \
                                             f"r{5 * u}"
    held = set(dm.split.valid.interactions["text"]) | set(dm.split.test.interactions["text"])
    assert held == {f"r{5 * u + k}" for u in range(6) for k in (3, 4)}
    for text in dm.train_data.user_text:
        assert set(text.removeprefix("Recent reviews: ").split(" | ")).isdisjoint(held)
