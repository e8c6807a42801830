"""Saved and reloaded in a fresh process: a Recommender scores bit-identically from the run
directory alone (no dataset, no training data files); the train task writes what it needs;
the CLI; bad run directories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.recommend import Recommender, seen_matrix, write_inference

FRESH = textwrap.dedent("""
    import json, sys, numpy as np, torch
    torch.set_num_threads(1)
    from causalrec.recommend import Recommender
    for job in json.loads(sys.argv[1]):
        run, out, text = job["run"], job["out"], job["texts"]
        rec = Recommender.from_run(run)
        np.save(out + "/scores.npy", rec.full_scores(torch.arange(rec.n_users)).numpy())
        rec.recommend(list(rec.user_ids), k=10).to_parquet(out + "/recs.parquet")
        if text:
            rec.recommend_text(text, k=10).to_parquet(out + "/text.parquet")
            rows = torch.stack([r[0] for r in rec.text_rows(text)])
            np.save(out + "/text_rows.npy", rows.numpy())
""")


def _bits(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32)).view(np.int32)


def test_saved_models_score_bit_identically_in_a_fresh_process(id_model, text_model,
                                                               tmp_path):
    """ID and text encoders: the run directory alone (no dataset; CAUSALREC_DATA empty)
    reproduces every score, list, and new-user text representation bit for bit."""
    import json

    from omegaconf import OmegaConf

    jobs, expected = [], []
    for name, (cfg, dm, module) in (("id", id_model), ("text", text_model)):
        run, out = tmp_path / name / "run", tmp_path / name / "out"
        out.mkdir(parents=True)
        write_inference(run, module, dm.train_data, seen_matrix(dm.split),
                        OmegaConf.to_yaml(cfg))
        train = pd.read_parquet(run / "inference" / "train.parquet")
        assert set(train.columns) <= {"user", "item", "label", "timestamp"}  # no text saved
        texts = [dm.train_data.user_text[3], "space adventure with robots"] \
            if name == "text" else []
        jobs.append({"run": str(run), "out": str(out), "texts": texts})
        expected.append(Recommender.from_module(module, dm.train_data, split=dm.split))
    env = {**os.environ, "CAUSALREC_DATA": str(tmp_path / "no-data")}
    res = subprocess.run([sys.executable, "-c", FRESH, json.dumps(jobs)], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    for job, rec in zip(jobs, expected, strict=True):
        out = job["out"]
        with torch.no_grad():
            scores = rec.full_scores(torch.arange(rec.n_users)).numpy()
        np.testing.assert_array_equal(_bits(np.load(out + "/scores.npy")), _bits(scores))
        pd.testing.assert_frame_equal(pd.read_parquet(out + "/recs.parquet"),
                                      rec.recommend(list(rec.user_ids), k=10))
        if job["texts"]:
            rows = torch.stack([r[0] for r in rec.text_rows(job["texts"])]).numpy()
            np.testing.assert_array_equal(_bits(np.load(out + "/text_rows.npy")), _bits(rows))
            pd.testing.assert_frame_equal(pd.read_parquet(out + "/text.parquet"),
                                          rec.recommend_text(job["texts"], k=10))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from causalrec.experiment.api import run

    path = tmp_path_factory.mktemp("runs") / "r"
    run(["logger=none", "trainer.max_epochs=2", "trainer.enable_progress_bar=false",
         "dataset.source.n_users=50", "dataset.source.n_items=40",
         "dataset.source.per_user=10", "encoder.dim=8"], output_dir=path)
    return path


def test_the_train_task_writes_what_the_recommender_needs(trained_run, tmp_path):
    """The CLI in a fresh process, from the run directory, exports the lists that the
    model rebuilt from config + regenerated data (load_model) gives, scores bit for bit."""
    from causalrec.experiment.api import load_model

    inference = trained_run / "inference"
    assert {p.name for p in inference.iterdir()} >= {
        "manifest.json", "config.yaml", "user_ids.parquet", "item_ids.parquet", "seen.npz",
        "train.parquet"}
    exe = shutil.which("causalrec-recommend") or os.path.join(os.path.dirname(sys.executable),
                                                             "causalrec-recommend")
    env = {**os.environ, "CAUSALREC_DATA": str(tmp_path / "no-data")}
    res = subprocess.run([exe, str(trained_run), "--all", "--k", "10", "--out",
                          str(tmp_path / "all.parquet")], capture_output=True, text=True,
                         timeout=600, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    cfg, dm, module = load_model(trained_run)
    rec = Recommender.from_module(module, dm.train_data, split=dm.split)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "all.parquet"),
                                  rec.recommend(list(rec.user_ids), k=10), check_exact=True)


def test_cli_and_export(trained_run, tmp_path, capsys):
    from causalrec.recommend import export_topk
    from causalrec.recommend.cli import main

    rec = Recommender.from_run(trained_run)
    assert main([str(trained_run), "--users", "u1", "u7", "--k", "5",
                 "--out", str(tmp_path / "recs.parquet")]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "recs.parquet"),
                                  rec.recommend(["u1", "u7"], k=5))
    path = export_topk(rec, tmp_path / "all.parquet", k=3, batch=7)
    every = pd.read_parquet(path)
    assert every["user"].nunique() == rec.n_users
    pd.testing.assert_frame_equal(every, rec.recommend(list(rec.user_ids), k=3))
    capsys.readouterr()
    assert main([str(trained_run), "--users", "ghost", "--k", "3"]) == 2
    assert "'ghost'" in capsys.readouterr().err
    assert main([str(trained_run), "--users", "u1", "--k", "0"]) == 2
    assert "got 0" in capsys.readouterr().err
    assert main([str(trained_run), "--text", "jazz"]) == 2  # an ID model has no text path
    assert "cannot represent a user from text" in capsys.readouterr().err
    assert main([str(tmp_path / "nothing"), "--users", "u1"]) == 2


def test_bad_run_directories_are_named(trained_run, tmp_path, capsys):
    from causalrec.recommend.cli import main

    with pytest.raises(FileNotFoundError, match="does not exist"):
        Recommender.from_run(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty has no inference/manifest\.json"):
        Recommender.from_run(empty)
    broken = tmp_path / "no_ckpt"
    shutil.copytree(trained_run, broken)
    (broken / "checkpoints" / "best.ckpt").unlink()
    with pytest.raises(FileNotFoundError, match=r"checkpoint .*best\.ckpt .*does not exist"):
        Recommender.from_run(broken)
    assert main([str(broken), "--users", "u1"]) == 2
    assert "best.ckpt" in capsys.readouterr().err
    tampered = tmp_path / "tampered"
    shutil.copytree(trained_run, tampered)
    (tampered / "inference" / "seen.npz").write_bytes(b"not the file")
    with pytest.raises(ValueError, match=r"seen\.npz is missing or changed"):
        Recommender.from_run(tampered)
