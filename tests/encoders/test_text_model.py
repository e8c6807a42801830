"""The transformers text model: agreement with sentence-transformers on the real MiniLM,
last-token pooling under left/right padding on a tiny GPT-2, model references, fine-tuning."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from causalrec.encoders.model_ref import ModelNotAvailableError, model_identity, resolve_model
from causalrec.encoders.transformer import TextModel

TEXTS = ["A thrilling space adventure across the galaxy.", "romantic comedy",
         "A documentary about bees, honey and the farmers who keep them alive in winter.",
         "x", "Crime thriller: a heist goes wrong. " * 12]


def test_minilm_matches_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    tm = TextModel("minilm", pooling="mean", normalize=True, batch_size=2, device="cpu")
    ours = tm.embed(TEXTS)
    st = SentenceTransformer(str(tm.resolved.path), device="cpu")
    ref = st.encode(TEXTS, batch_size=2, convert_to_numpy=True)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() >= 0.999999, cos
    assert tm.max_length == st.max_seq_length == 256
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # batches cut by a token budget (CPU default) give the same vectors as one batch
    threads = torch.get_num_threads()
    try:  # auto: a token budget on one CPU thread only
        torch.set_num_threads(1)
        assert tm.token_budget == 2048
        torch.set_num_threads(2)
        assert tm.token_budget is None
    finally:
        torch.set_num_threads(threads)
    budget = TextModel("minilm", batch_size=64, batch_tokens=40, device="cpu")
    one = TextModel("minilm", batch_size=64, batch_tokens=None, device="cpu")
    a, b = budget.embed(TEXTS), one.embed(TEXTS)
    assert (a * b).sum(1).min() >= 0.999999 and (a * ref).sum(1).min() >= 0.999999


def test_batches_honour_the_text_and_token_limits(tiny_bert_dir):
    tm = TextModel(str(tiny_bert_dir), batch_size=3, batch_tokens=10, device="cpu")
    lengths = np.array([9, 6, 5, 5, 3, 3, 3, 3, 2, 1])  # sorted longest first
    batches = tm._batches(lengths)
    assert [(b.start, b.stop) for b in batches] == [(0, 1), (1, 2), (2, 4), (4, 7), (7, 10)]
    for b in batches:  # every batch within both limits, the first text the widest
        assert b.stop - b.start <= 3 and (b.stop - b.start) * lengths[b.start] <= 10
    assert TextModel(str(tiny_bert_dir), batch_tokens=4, device="cpu")._batches(
        np.array([7, 7]))[0] == slice(0, 1)  # a text longer than the budget: alone
    assert TextModel(str(tiny_bert_dir), batch_size=3, batch_tokens=None, device="cpu")._batches(
        lengths)[0] == slice(0, 3)
    with pytest.raises(ValueError, match="batch_tokens must be a positive integer.*0"):
        TextModel(str(tiny_bert_dir), batch_tokens=0, device="cpu")


def _single(tm, texts):
    return np.stack([tm.embed([t])[0] for t in texts])


GPT_TEXTS = ["space adventure", "the romantic comedy in paris with love and music",
             "bees", "crime thriller heist night"]


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("pooling", ["last", "mean", "cls"])
def test_decoder_pooling_is_padding_invariant(tiny_gpt2_dir, side, pooling):
    tm = TextModel(str(tiny_gpt2_dir), pooling=pooling, normalize=False, padding_side=side,
                   batch_size=4, device="cpu")
    assert tm.tokenizer.pad_token == "<eos>"  # no pad token shipped: eos is used
    batched = tm.embed(GPT_TEXTS)  # one batch of 4, padded to the longest text
    ids = tm.tokenize(GPT_TEXTS)
    assert len({len(x) for x in ids}) > 1, "texts must differ in length for padding to matter"
    np.testing.assert_allclose(batched, _single(tm, GPT_TEXTS), atol=1e-5, rtol=1e-5)


def test_last_token_is_the_last_real_token(tiny_gpt2_dir):
    tm = TextModel(str(tiny_gpt2_dir), pooling="last", normalize=False, padding_side="left",
                   device="cpu")
    ids = tm.tokenize(["space adventure"])
    with torch.no_grad():
        states = tm.model(input_ids=torch.tensor(ids)).last_hidden_state[0]
    np.testing.assert_allclose(tm.embed(["space adventure"])[0], states[-1].numpy(), atol=1e-6)
    assert not np.allclose(tm.embed(["space adventure"])[0], states[0].numpy())


def test_bert_cls_and_mean_with_left_padding(tiny_bert_dir):
    for pooling in ("cls", "mean"):
        right = TextModel(str(tiny_bert_dir), pooling=pooling, padding_side="right",
                          device="cpu")
        left = TextModel(str(tiny_bert_dir), pooling=pooling, padding_side="left", device="cpu")
        np.testing.assert_allclose(right.embed(GPT_TEXTS), left.embed(GPT_TEXTS), atol=1e-5)
        np.testing.assert_allclose(right.embed(GPT_TEXTS), _single(right, GPT_TEXTS), atol=1e-5)


def test_embed_keeps_input_order_and_max_length(tiny_bert_dir):
    tm = TextModel(str(tiny_bert_dir), max_length=4, batch_size=2, device="cpu")
    texts = ["jazz", "the old classic war drama film", "bees", "love"]
    assert max(len(x) for x in tm.tokenize(texts)) == 4
    out = tm.embed(texts)
    np.testing.assert_allclose(out[2], tm.embed(["bees"])[0], atol=1e-5)
    # truncation: the long text equals its first 2 words ([CLS] w1 w2 [SEP] = 4 tokens)
    np.testing.assert_allclose(out[1], tm.embed(["the old"])[0], atol=1e-5)


def test_model_references(tiny_gpt2_dir, tmp_path):
    assert resolve_model("minilm").path.name == "model"
    with pytest.raises(ModelNotAvailableError, match="allow_download: true"):
        resolve_model("sentence-transformers/all-mpnet-base-v2")
    with pytest.raises(ModelNotAvailableError, match="no such directory"):
        resolve_model(str(tmp_path / "nowhere" / "model"))
    with pytest.raises(ModelNotAvailableError, match="no config.json"):
        resolve_model(str(tmp_path))
    # identity is content based: a copy has the same identity, changed weights a new one
    copy = tmp_path / "copy"
    shutil.copytree(tiny_gpt2_dir, copy)
    assert model_identity(copy) == model_identity(tiny_gpt2_dir)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert model_identity(copy) != model_identity(tiny_gpt2_dir)


def test_secure_and_device_defaults(tiny_gpt2_dir):
    tm = TextModel(str(tiny_gpt2_dir), device="auto", dtype="auto")
    assert tm.trust_remote_code is False
    if not torch.cuda.is_available():
        assert tm.device_.type == "cpu" and tm.dtype_ == torch.float32
        with pytest.raises(RuntimeError, match="no CUDA device"):
            TextModel(str(tiny_gpt2_dir), device="cuda")
    with pytest.raises(ValueError, match="unknown dtype"):
        TextModel(str(tiny_gpt2_dir), dtype="float8")


def test_trainable_layers(tiny_gpt2_dir):
    tm = TextModel(str(tiny_gpt2_dir), device="cpu")
    names = tm.set_trainable_layers(1)
    assert names and all(n.startswith(("h.1.", "ln_f.")) for n in names)
    assert any(n.startswith("ln_f.") for n in names)
    assert not any(p.requires_grad for n, p in tm.model.named_parameters() if n not in names)
    assert tm.set_trainable_layers(0) == []
    with pytest.raises(ValueError, match="has 2 layers"):
        tm.set_trainable_layers(3)
