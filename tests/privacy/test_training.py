"""privacy=dp through the training task: the run record's ε, the budget stop, bad input."""

from __future__ import annotations

import json

import pytest

SMALL = ["logger=none", "trainer.enable_progress_bar=false", "dataset.source.n_users=120",
         "dataset.source.n_items=80", "dataset.source.per_user=12", "model.diagnostics=false"]


def _run(tmp_path, *overrides, name="r"):
    from causalrec.experiment.api import run

    metrics = run([*SMALL, *overrides], output_dir=tmp_path / name)
    record = json.loads((tmp_path / name / "metrics.json").read_text())
    return metrics, record


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_recorded_epsilon_equals_opacus_accountant(tmp_path, accountant):
    from opacus.accountants import PRVAccountant, RDPAccountant

    m, rec = _run(tmp_path, "head=bpr", "trainer.max_epochs=3", "privacy=dp",
                  "privacy.epsilon=3", "privacy.sample_rate=0.25",
                  f"privacy.accountant={accountant}", "model.early_stopping_patience=100")
    p = rec["privacy"]
    # every planned step was taken (3 epochs x round(1/q) steps) and no more
    assert p["steps"] == 3 * 4 == p["planned_steps"]
    assert not p["stopped_by_budget"]  # the plan ended training, not the budget
    acc = RDPAccountant() if accountant == "rdp" else PRVAccountant()
    for _ in range(p["steps"]):
        acc.step(noise_multiplier=p["noise_multiplier"], sample_rate=p["sample_rate"])
    eps = acc.get_epsilon(delta=p["delta"])
    assert rec["metrics"]["privacy/epsilon"] == pytest.approx(eps, rel=1e-9)
    assert p["epsilon_spent"] == pytest.approx(eps, rel=1e-9)
    assert eps <= 3.0
    # δ defaults to 1 / number of users with training rows
    assert p["delta"] == pytest.approx(1 / p["n_units"]) and p["n_units"] == 120
    assert rec["metrics"]["privacy/delta"] == pytest.approx(p["delta"])
    assert any("item catalogue" in s for s in p["public"])
    assert any("training interactions" in s for s in p["private"])


def test_training_stops_before_the_budget_is_exceeded(tmp_path, caplog):
    from causalrec.privacy.accountant import epsilon_spent, max_steps

    with caplog.at_level("WARNING", logger="causalrec"):
        m, rec = _run(tmp_path, "head=bpr", "trainer.max_epochs=30", "privacy=dp",
                      "privacy.epsilon=1.0", "privacy.noise_multiplier=3.0",
                      "privacy.sample_rate=0.5", "model.early_stopping_patience=100")
    p = rec["privacy"]
    budget = max_steps(3.0, 0.5, 1.0, p["delta"])
    assert p["stopped_by_budget"] and p["steps"] == budget < p["planned_steps"]
    assert p["epsilon_spent"] <= 1.0 < epsilon_spent(3.0, 0.5, budget + 1, p["delta"])
    assert "privacy budget reached" in caplog.text


def test_negligible_noise_learns_like_non_private(tmp_path):
    common = ["head=bpr", "trainer.max_epochs=15", "model.optimizer.lr=0.02",
              "dataset.batch_size=256", "model.early_stopping_patience=100"]
    base, _ = _run(tmp_path, *common, name="base")
    # σ C = 0.01 and no unit reaches C: DP-SGD's plumbing must then train like plain SGD
    dp, rec = _run(tmp_path, *common, "privacy=dp", "privacy.epsilon=null",
                   "privacy.noise_multiplier=1e-4", "privacy.clip_norm=100", name="dp")
    # an untrained model ranks at NDCG@10 ~ 0.08 on this data; trained ~ 0.17
    assert base["test/ndcg@10"] > 0.14
    assert dp["test/ndcg@10"] > 0.85 * base["test/ndcg@10"]
    assert rec["metrics"]["privacy/clipped_share"] == 0.0
    assert rec["privacy"]["epsilon_spent"] > 1e3  # honest: that noise buys no privacy


def test_local_user_params_leave_user_table_unnoised(tmp_path):
    m, rec = _run(tmp_path, "head=bpr", "trainer.max_epochs=2", "privacy=dp",
                  "privacy.user_params=local")
    p = rec["privacy"]
    assert p["local_layers"] == ["encoder.user_emb"]
    assert p["noised_layers"] == ["encoder.item_emb"] and p["design"] == "joint"
    assert any("never released" in s for s in p["private"])


@pytest.mark.parametrize("override,match", [
    (["privacy.epsilon=0"], r"privacy\.epsilon must be a finite number > 0"),
    (["privacy.epsilon=-2"], r"privacy\.epsilon must be a finite number > 0"),
    (["privacy.delta=1.0"], r"privacy\.delta must lie in \(0, 1\)"),
    (["privacy.epsilon=null"], r"privacy\.epsilon .* or privacy\.noise_multiplier"),
    (["privacy.unit=item"], r"privacy\.unit must be one of"),
    (["head=snips"], r"head\._target_=causalrec\.heads\.snips\.SNIPSHead"),
    (["head=ips"], r"head\.propensity=.*PopularityPropensity"),
    (["head=dice"], r"head\._target_=causalrec\.heads\.dice\.DICEHead"),
    (["encoder=sequence"], r"encoder\._target_=causalrec\.encoders\.sequence\.SequenceEncoder"),
    (["dataset.negative_sampler=popularity"], r"dataset\.negative_sampler=popularity"),
])
def test_bad_privacy_settings_name_the_key(tmp_path, override, match):
    from causalrec.experiment.api import run

    with pytest.raises(ValueError, match=match):
        run([*SMALL, "trainer.max_epochs=1", "privacy=dp", *override], output_dir=tmp_path / "r")
    assert not (tmp_path / "r" / "metrics.json").exists()
    assert not (tmp_path / "r" / "checkpoints").exists()


def test_interaction_level_units_are_rows(tmp_path):
    m, rec = _run(tmp_path, "head=bpr", "trainer.max_epochs=1", "privacy=dp",
                  "privacy.unit=interaction", "privacy.epsilon=2")
    p = rec["privacy"]
    n_rows = round(p["rows_per_unit_mean"] * p["n_units"])
    assert p["unit"] == "interaction" and p["rows_per_unit_mean"] == 1.0
    assert p["n_units"] == n_rows > 120 and p["delta"] == pytest.approx(1 / n_rows)


@pytest.mark.parametrize("mode,unit,match", [
    ("history", "user", r"encoder\.users=history"),
    ("text", "interaction", r"privacy\.unit=interaction does not support encoder\.users=text"),
])
def test_text_encoder_settings_that_cannot_be_clipped_name_the_key(mode, unit, match):
    from types import SimpleNamespace

    from causalrec.privacy.engine import check_encoder

    enc = SimpleNamespace(users_mode=mode, text_model=None)
    with pytest.raises(ValueError, match=match):
        check_encoder(enc, unit)
    import torch

    centred = torch.randn(5, 3)
    centred = centred - centred.mean(0)  # what encoder.center=true does to user vectors
    with pytest.raises(ValueError, match=r"encoder\.center=true"):
        check_encoder(SimpleNamespace(users_mode="text", text_model=None,
                                      user_text_emb=centred), "user")
    check_encoder(SimpleNamespace(users_mode="text", text_model=None,
                                  user_text_emb=centred + 1.0), "user")
    with pytest.raises(ValueError, match=r"trainable_layers > 0"):
        check_encoder(SimpleNamespace(users_mode="id", text_model=object()), "user")
