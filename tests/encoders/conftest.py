"""Fixtures for the encoder tests: tiny transformer models built offline in a temp dir."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

WORDS = ("space adventure romantic comedy paris documentary about bees thriller crime heist "
         "the a of in with and love war drama family animated kids music jazz horror night "
         "user likes watches old new classic movie film short long story").split()


def _word_tokenizer(specials: dict[str, str], template: str | None):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate([*specials.values(), *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=specials["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if template:
        cls, sep = specials["cls_token"], specials["sep_token"]
        tok.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}", special_tokens=[(cls, vocab[cls]), (sep, vocab[sep])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, **specials), len(vocab)


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    """Model-identity memos and caches of these tests go to a temp dir, not ~/.cache."""
    monkeypatch.setenv("CAUSALREC_DATA", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory):
    """A 2-layer GPT-2 with random weights and a word-level tokenizer without a pad token."""
    import torch
    from transformers import GPT2Config, GPT2Model

    path = tmp_path_factory.mktemp("tiny_gpt2")
    tok, n = _word_tokenizer({"unk_token": "<unk>", "eos_token": "<eos>"}, None)
    tok.save_pretrained(path)
    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=2, n_head=2, n_embd=32, n_inner=64, vocab_size=n, n_positions=64,
                     bos_token_id=1, eos_token_id=1)
    GPT2Model(cfg).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory):
    """A 2-layer BERT with random weights and a word-level tokenizer ([CLS] text [SEP])."""
    import torch
    from transformers import BertConfig, BertModel

    path = tmp_path_factory.mktemp("tiny_bert")
    specials = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]",
                "sep_token": "[SEP]"}
    tok, n = _word_tokenizer(specials, "bert")
    tok.save_pretrained(path)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=n, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64)
    BertModel(cfg).save_pretrained(path)
    return path


ITEM_TEXTS = ["space adventure", "romantic comedy in paris", "documentary about bees",
              "crime thriller heist", "animated family movie with music",
              "old classic war drama film", "jazz", "horror night"]
USER_TEXTS = ["user likes space adventure", "user watches romantic comedy",
              "user likes documentary film", "user likes horror"]


@pytest.fixture
def toy_data():
    """4 users x 8 items with text, and a few interactions."""
    from causalrec.data import InteractionData

    inter = pd.DataFrame({"user": np.array([0, 0, 1, 1, 2, 3], dtype=np.int64),
                          "item": np.array([0, 3, 1, 4, 2, 7], dtype=np.int64)})
    return InteractionData(inter, n_users=4, n_items=8, item_text=list(ITEM_TEXTS),
                           user_text=list(USER_TEXTS), name="toy", meta={})
