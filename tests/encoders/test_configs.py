"""Every conf/encoder entry instantiates through Hydra, and a text encoder trains end to end."""

from __future__ import annotations

import pytest
import torch
from hydra.utils import instantiate

from causalrec.encoders import build_encoder
from causalrec.experiment.api import compose


@pytest.mark.parametrize("name", ["id", "minilm", "sequence", "hybrid", "decoder_llm"])
def test_encoder_configs_instantiate(name, toy_data, tiny_bert_dir, tiny_gpt2_dir, tmp_path):
    overrides = [f"encoder={name}", f"paths.data_dir={tmp_path}"]
    tiny = tiny_gpt2_dir if name == "decoder_llm" else tiny_bert_dir
    if name in ("minilm", "decoder_llm"):
        overrides.append(f"encoder.model={tiny}")
    if name == "hybrid":
        overrides.append(f"encoder.text.model={tiny}")
    cfg = compose(overrides)
    enc = build_encoder(cfg.encoder, toy_data)
    users = enc.encode_users(torch.tensor([0, 2]))
    assert users.shape == (2, enc.dim) and enc.all_items().shape == (toy_data.n_items, enc.dim)
    # instantiate(cfg, data=...) hands the encoder a DictConfig copy of the data: it still works
    again = instantiate(cfg.encoder, data=toy_data)
    assert again.encode_users(torch.tensor([0, 2])).shape == users.shape
    if name in ("minilm", "hybrid", "decoder_llm"):
        assert list(tmp_path.glob("embeddings/*/manifest.json")), "cache_dir comes from paths"


def test_decoder_llm_requires_a_model():
    from omegaconf.errors import MissingMandatoryValue

    cfg = compose(["encoder=decoder_llm"])
    with pytest.raises(MissingMandatoryValue):
        _ = cfg.encoder.model


def test_text_encoder_trains_in_the_pipeline(tiny_bert_dir, tmp_path):
    from causalrec.experiment.api import run

    metrics = run(["logger=none", "+trainer.fast_dev_run=true", "dataset=synthetic",
                   "dataset.source._target_=causalrec.sim.load_synthetic",
                   "dataset.source.n_users=60", "dataset.source.n_items=40",
                   "dataset.source.per_user=8", "encoder=minilm", f"encoder.model={tiny_bert_dir}",
                   f"paths.data_dir={tmp_path / 'data'}"], output_dir=tmp_path / "run")
    assert 0.0 <= metrics["test/ndcg@10"] <= 1.0
    assert list((tmp_path / "data" / "embeddings").glob("*/manifest.json"))
