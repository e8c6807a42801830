"""Fixtures for the Recommender tests: small ml-100k-like generated data with item titles,
a tiny word-level BERT built offline, and small trained modules (ID and text encoders)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

WORDS = ("space adventure romantic comedy paris documentary bees thriller crime heist love "
         "war drama family animated kids music jazz horror night classic western robots "
         "pirates ocean mountain detective school").split()


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("CAUSALREC_DATA", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """A 2-layer BERT with random weights and a word-level tokenizer over WORDS."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny_bert")
    specials = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]",
                "sep_token": "[SEP]"}
    vocab = {t: i for i, t in enumerate([*specials.values(), *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    PreTrainedTokenizerFast(tokenizer_object=tok, **specials).save_pretrained(path)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=64,
                         max_position_embeddings=128)).save_pretrained(path)
    return path


def make_data(n_users: int = 60, n_items: int = 50, per_user: int = 12, seed: int = 0):
    """generate_interactions plus a three-word title per item (item text and feature)."""
    from dataclasses import replace

    from causalrec.data import generate_interactions

    data = generate_interactions(n_users=n_users, n_items=n_items, per_user=per_user, seed=seed)
    rng = np.random.default_rng(seed)
    titles = [" ".join(rng.choice(WORDS, size=3, replace=False)) for _ in range(n_items)]
    return replace(data, item_text=titles, item_features=pd.DataFrame({"title": titles}))


def train_module(encoder: list[str], head: str = "bpr", epochs: int = 3, data=None,
                 split: dict | None = None):
    """(cfg, datamodule, module) trained for a few epochs with a plain loop (fast)."""
    from causalrec.data import CausalRecDataModule
    from causalrec.experiment.api import compose
    from causalrec.models.build import build_module

    cfg = compose([f"head={head}", *encoder, "logger=none"])
    torch.manual_seed(0)
    dm = CausalRecDataModule(data if data is not None else make_data(),
                             split=split or {"protocol": "random"},
                             sampling="pairwise" if head == "bpr" else "pointwise",
                             batch_size=256, seed=0)
    dm.setup("fit")
    module = build_module(cfg, dm.train_data, with_optimizer=False)
    opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=0.02)
    module.train()
    for _ in range(epochs):
        for batch in dm.train_dataloader():
            loss = module.head.loss(batch, module.head(batch))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return cfg, dm, module.eval()


def text_encoder(path, users: str = "text") -> list[str]:
    return ["encoder=minilm", f"encoder.model={path}", "encoder.cache_dir=null",
            "encoder.device=cpu", "encoder.dim=16", f"encoder.users={users}"]


ID_ENCODER = ["encoder=id", "encoder.dim=16"]


@pytest.fixture(scope="session")
def id_model():
    return train_module(ID_ENCODER)


@pytest.fixture(scope="session")
def text_model(tiny_bert):
    return train_module(text_encoder(tiny_bert))
