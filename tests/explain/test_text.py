"""Text evidence with the default text intent model (all-MiniLM-L6-v2, offline from PyPI):
the user's sentences and the item's spans ranked by cosine in the encoder's space."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from causalrec.explain import explain, text_evidence
from causalrec.explain.text import sentences, spans, text_encoder


@pytest.fixture(scope="module")
def text_rec():
    from causalrec.recommend import Recommender
    from causalrec.sim import simulate

    from .conftest import _recommend_helpers

    helpers = _recommend_helpers()
    _, dm, module = helpers.train_module(
        ["encoder=minilm", "encoder.cache_dir=null", "encoder.device=cpu", "encoder.dim=16",
         "encoder.users=text"], "bpr", epochs=1,
        data=simulate("intent_confounding", n_users=16, n_items=20, per_user=8, seed=1,
                      user_sentences=4, randomized_users=0.0).data)
    return Recommender.from_module(module, dm.train_data), dm.train_data


def test_splitting():
    assert sentences("One two. Three? Four; five!") == ["One two.", "Three?", "Four;", "five!"]
    assert spans("Midfield and Trophy. Everything about the transfer, with a midfield.") == [
        "Midfield and Trophy.", "Everything about the transfer", "with a midfield"]


def test_text_evidence_ranks_by_cosine_in_the_encoder_space(text_rec):
    rec, data = text_rec
    enc = text_encoder(rec)
    user = rec.user_ids[0]
    item = rec.recommend([user], k=3)["item"].iloc[0]
    u, i = int(rec.user_index([user])[0]), int(rec.item_index([item])[0])
    ev = text_evidence(rec, data.user_text[u], data.item_text[i], n=2)
    # recompute the best sentence by hand
    sents = sentences(data.user_text[u])
    with torch.no_grad():
        a = torch.nn.functional.normalize(enc.text_vectors(sents, "user"), dim=-1)
        b = torch.nn.functional.normalize(enc.text_vectors([data.item_text[i]], "item"),
                                          dim=-1)[0]
    sims = (a @ b).numpy()
    assert ev.user_sentences[0][0] == sents[int(np.argmax(sims))]
    assert ev.user_sentences[0][1] == pytest.approx(float(sims.max()), abs=1e-5)
    assert len(ev.item_spans) == 2 and ev.item_spans[0][1] >= ev.item_spans[1][1]
    e = explain(rec, user, item, k=3, data=data)
    assert e.text is not None and "the user wrote" in e.summary()
