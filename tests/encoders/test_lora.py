"""LoRA adapters (peft) as a fine-tuning option of the text encoder."""

from __future__ import annotations

import pytest
import torch

from causalrec.encoders import TextIntentEncoder, TextModel

from .conftest import ITEM_TEXTS


def _enc(path, data, **kw):
    return TextIntentEncoder(data, model=str(path), device="cpu", progress=False, **kw)


@pytest.mark.parametrize("model", ["tiny_bert_dir", "tiny_gpt2_dir"])
def test_lora_trains_only_adapters_of_the_top_layers(model, toy_data, request):
    path = request.getfixturevalue(model)
    torch.manual_seed(0)
    extra = {"pooling": "last", "padding_side": "left"} if model == "tiny_gpt2_dir" else {}
    enc = _enc(path, toy_data, dim=4, trainable_layers=1, lora={"r": 2, "alpha": 4}, **extra)
    lm = enc.text_model.model
    trainable = [n for n, p in lm.named_parameters() if p.requires_grad]
    top = "encoder.layer.1." if model == "tiny_bert_dir" else "h.1."
    assert trainable and all("lora_" in n and n.startswith(top) for n in trainable)
    # adapters start at B = 0: the vectors are the frozen model's
    ref = TextModel(str(path), device="cpu", **extra).embed(ITEM_TEXTS)
    enc.eval()
    with torch.no_grad():
        torch.testing.assert_close(enc._all_item_vectors(), torch.from_numpy(ref), atol=1e-5,
                                   rtol=1e-5)
    before = {n: p.detach().clone() for n, p in lm.named_parameters()}
    opt = torch.optim.SGD([p for p in enc.parameters() if p.requires_grad], lr=0.5)
    enc.train()
    for _ in range(2):  # B moves on the first step, A (and the vectors) from the second
        opt.zero_grad()
        users, items = torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2])
        loss = -(enc.encode_users(users) * enc.encode_items(items)).sum(-1).sigmoid().log().mean()
        loss.backward()
        opt.step()
    changed = {n for n, p in lm.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all("lora_" in n for n in changed)
    enc.eval()
    with torch.no_grad():
        assert not torch.allclose(enc._all_item_vectors(), torch.from_numpy(ref), atol=1e-4)


def test_lora_state_round_trip_and_errors(tiny_bert_dir, toy_data):
    torch.manual_seed(0)
    enc = _enc(tiny_bert_dir, toy_data, dim=4, trainable_layers=2, lora={"r": 2})
    with torch.no_grad():
        for n, p in enc.named_parameters():
            if "lora_B" in n:
                p.normal_()
    enc.eval()
    state = enc.state_dict()
    assert any("lora_A" in k for k in state)
    torch.manual_seed(1)
    again = _enc(tiny_bert_dir, toy_data, dim=4, trainable_layers=2, lora={"r": 2})
    again.load_state_dict(state)
    again.eval()
    with torch.no_grad():
        torch.testing.assert_close(again.all_items(), enc.all_items())
    with pytest.raises(ValueError, match="top 3 layers.*2 layers"):
        _enc(tiny_bert_dir, toy_data, trainable_layers=3, lora={"r": 2})
    with pytest.raises(ValueError, match="no module named.*target_modules"):
        _enc(tiny_bert_dir, toy_data, trainable_layers=1,
             lora={"r": 2, "target_modules": ["nonexistent"]})


def test_minilm_lora_config(tiny_bert_dir, toy_data, tmp_path):
    from causalrec.encoders import build_encoder
    from causalrec.experiment.api import compose

    cfg = compose(["encoder=minilm_lora", f"encoder.model={tiny_bert_dir}", "encoder.device=cpu",
                   "encoder.lora.r=4", "encoder.trainable_layers=1", f"paths.data_dir={tmp_path}"])
    enc = build_encoder(cfg.encoder, toy_data)
    a = [p for n, p in enc.text_model.model.named_parameters() if "lora_A" in n]
    assert a and all(p.shape[0] == 4 for p in a)  # rank r = 4
