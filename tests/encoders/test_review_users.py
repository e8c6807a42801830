"""Users from their own interaction texts (``users: reviews``): recency-weighted review vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import InteractionData
from causalrec.data.text_views import interaction_texts
from causalrec.encoders import TextIntentEncoder, TextModel

from .conftest import ITEM_TEXTS


def _review_data():
    inter = pd.DataFrame({
        "user": np.array([0, 0, 0, 1, 1, 2], dtype=np.int64),
        "item": np.array([0, 3, 5, 1, 4, 2], dtype=np.int64),
        "label": np.array([1, 1, 1, 1, 0, 1], dtype=np.float32),
        "timestamp": np.array([1, 3, 2, 5, 6, 1], dtype=np.int64),
        "text": ["space adventure film", None, "old war drama", "", "jazz night",
                 "the bees documentary"]})
    titles = pd.DataFrame({"title": ITEM_TEXTS})
    return InteractionData(inter, n_users=4, n_items=8, item_text=list(ITEM_TEXTS),
                           item_features=titles, name="toy", source="toy.inter", meta={})


def test_interaction_texts_recent_first_with_weights():
    data = _review_data()
    texts, users, weights = interaction_texts(data, max_items=5, decay=0.5)
    # user 0: item 3 (t=3, no review -> title), item 5 (t=2), item 0 (t=1); user 1: item 1
    # (empty review -> title; item 4 is a negative); user 2: its review; user 3: nothing
    assert texts == [ITEM_TEXTS[3], "old war drama", "space adventure film", ITEM_TEXTS[1],
                     "the bees documentary"]
    assert users.tolist() == [0, 0, 0, 1, 2]
    np.testing.assert_allclose(weights, [4 / 7, 2 / 7, 1 / 7, 1.0, 1.0])
    texts2, users2, w2 = interaction_texts(data, max_items=2, decay=1.0)
    assert texts2[:2] == [ITEM_TEXTS[3], "old war drama"] and users2.tolist() == [0, 0, 1, 2]
    np.testing.assert_allclose(w2, [0.5, 0.5, 1.0, 1.0])
    with pytest.raises(ValueError, match="decay"):
        interaction_texts(data, decay=0.0)
    with pytest.raises(ValueError, match="max_items"):
        interaction_texts(data, max_items=0)


def test_review_users_are_weighted_means_of_their_texts(tiny_bert_dir, tmp_path):
    data = _review_data()
    enc = TextIntentEncoder(data, dim=None, model=str(tiny_bert_dir), device="cpu",
                            users="reviews", recency_decay=0.5, cache_dir=tmp_path,
                            center=False, progress=False)
    texts, users, weights = interaction_texts(data, 20, 0.5)
    ref = TextModel(str(tiny_bert_dir), device="cpu").embed(texts)
    want = np.zeros((4, ref.shape[1]))
    np.add.at(want, users, ref * weights[:, None])
    torch.testing.assert_close(enc.user_text_emb, torch.from_numpy(want).float(), atol=1e-5,
                               rtol=1e-5)
    torch.testing.assert_close(enc.encode_users(torch.tensor([0, 3])), enc.user_text_emb[[0, 3]])
    assert enc.cache_stats["interaction texts"].encoded == len(set(texts))
    centred = TextIntentEncoder(data, dim=3, model=str(tiny_bert_dir), device="cpu",
                                users="reviews", recency_decay=0.5, cache_dir=tmp_path,
                                progress=False)
    assert centred.cache_stats["interaction texts"].encoded == 0  # all from the cache
    torch.testing.assert_close(centred.user_text_emb.mean(0), torch.zeros(ref.shape[1]),
                               atol=1e-5, rtol=0)
    assert centred.encode_users(torch.tensor([1, 2])).shape == (2, 3)
    with pytest.raises(ValueError, match="trainable_layers: 0"):
        TextIntentEncoder(data, model=str(tiny_bert_dir), device="cpu", users="reviews",
                          trainable_layers=1)
