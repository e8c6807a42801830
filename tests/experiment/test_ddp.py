"""trainer=ddp: two CPU processes (gloo) give the single-process result.

Each DDP process takes every other batch of the same epoch and gradients are averaged, so
a DDP step with batch size B equals a single-process step with batch size 2B on the union
of the two batches. Evaluation is sharded by user and reduced. Stated tolerance: 1e-4
absolute on every metric (float reduction order differs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMON = ["logger=none", "trainer.max_epochs=3", "trainer.enable_progress_bar=false",
          "dataset.source.n_users=128", "dataset.source.n_items=100",
          "dataset.source.per_user=10", "model.optimizer.lr=0.01"]


def _run(tmp: Path, *args: str) -> dict:
    env = {**os.environ, "CAUSALREC_OUTPUT": str(tmp), "WANDB_MODE": "disabled"}
    exe = Path(sys.executable).with_name("causalrec-train")
    out = subprocess.run([str(exe), *args, *COMMON], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    records = list(tmp.rglob("metrics.json"))
    assert len(records) == 1, f"expected one record (rank 0 only), got {records}"
    return json.loads(records[0].read_text())["metrics"]


def test_ddp_two_processes_match_single_process(tmp_path):
    # 1024 training rows per epoch (128 users x 8 train items) x 2 (one negative each)
    ddp = _run(tmp_path / "ddp", "trainer=ddp", "dataset.batch_size=128")
    single = _run(tmp_path / "single", "dataset.batch_size=256")
    assert any((tmp_path / "ddp").rglob("train_ddp_process_1.log")), "no second process ran"
    for key in ("test/ndcg@10", "test/recall@10", "val/ndcg@10", "test/hit@20"):
        assert ddp[key] == pytest.approx(single[key], abs=1e-4), key
    assert ddp["test/ndcg@10"] > 0
