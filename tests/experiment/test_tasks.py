"""The graph task: causalrec-train task=graph runs model -> identify -> estimate -> truth."""

from __future__ import annotations

import json

import pytest


def test_graph_study_recovers_the_effect_the_naive_difference_misses(tmp_path):
    from causalrec.experiment.api import run

    m = run(["experiment=intent_confounding", "logger=none", "study.n_users=1500",
             "study.per_user=20", "+study.simulator.intent_bias=2.5"],
            output_dir=tmp_path / "r")
    truth = m["graph/ate_true"]
    # the BN route and the backdoor estimate agree with each other exactly (same adjustment)
    assert m["graph/ate_bn"] == pytest.approx(m["graph/ate_backdoor"], abs=1e-9)
    # both are close to the truth, the naive difference is not
    assert m["graph/abs_err_bn"] < 0.02, m
    assert m["graph/abs_err_naive"] > 2 * m["graph/abs_err_bn"], m
    assert m["graph/ate_naive"] != pytest.approx(truth, abs=0.02)
    rec = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert rec["task"] == "graph" and rec["identification"] == "backdoor"


def test_mediation_study_decomposes_the_effect(tmp_path):
    from causalrec.experiment.api import run

    m = run(["experiment=mediation", "logger=none", "study.n_users=1500"],
            output_dir=tmp_path / "r")
    assert m["graph/total_bn"] == pytest.approx(
        m["graph/natural_direct_bn"] + m["graph/natural_indirect_bn"], abs=1e-9)
    for part in ("total", "natural_direct", "natural_indirect"):
        assert m[f"graph/{part}_bn"] == pytest.approx(m[f"graph/{part}_true"], abs=0.02), part


def test_unknown_task_is_a_clear_error(tmp_path):
    from causalrec.experiment.api import run

    with pytest.raises(ValueError, match="unknown task 'nope'"):
        run(["task=nope", "logger=none"], output_dir=tmp_path / "r")


def test_ope_task_on_obd_records_every_estimator(tmp_path):
    from causalrec.experiment.api import run

    m = run(["experiment=ope_obd", "logger=none", "study.n_resamples=2", "study.n_sim=20000"],
            output_dir=tmp_path / "r")
    names = ("dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os")
    for name in names:
        assert 0 <= m[f"ope/relerr_{name}"] < 2.0, name
        # the relative error is consistent with the recorded estimate and truth on average
        assert m[f"ope/estimate_{name}"] > 0
    # the truth is the BTS log's mean click rate, a small positive probability
    assert 0.001 < m["ope/truth"] < 0.02


def test_load_model_rebuilds_the_trained_run(tmp_path):
    from causalrec.evaluation import evaluate
    from causalrec.experiment.api import load_model, run

    m = run(["logger=none", "trainer.max_epochs=3", "trainer.enable_progress_bar=false",
             "dataset.source.n_users=80", "dataset.source.n_items=60",
             "dataset.source.per_user=10", "model.optimizer.lr=0.01"], output_dir=tmp_path / "r")
    cfg, dm, module = load_model(tmp_path / "r")
    # scoring the run's test users with the rebuilt model reproduces the recorded metric
    again = evaluate(module.head, dm.split, ks=cfg.model.ks, metrics=cfg.model.metrics)
    assert again["test/ndcg@10"] == pytest.approx(m["test/ndcg@10"], abs=1e-6)
    with pytest.raises(FileNotFoundError, match="finished"):
        load_model(tmp_path / "nope")


def test_a_finished_run_directory_is_never_overwritten(tmp_path):
    from causalrec.experiment.api import run

    small = ["logger=none", "+trainer.fast_dev_run=true", "dataset.source.n_users=40",
             "dataset.source.n_items=50", "dataset.source.per_user=10"]
    run(small, output_dir=tmp_path / "r")
    before = (tmp_path / "r" / "metrics.json").read_bytes()
    with pytest.raises(FileExistsError, match="already holds a finished run"):
        run([*small, "seed=1"], output_dir=tmp_path / "r")
    assert (tmp_path / "r" / "metrics.json").read_bytes() == before
