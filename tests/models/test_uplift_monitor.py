"""Uplift heads early-stop on the IPS-unbiased causal metric of the logged validation rows
(``model.monitor: auto``), never on the outcome NDCG; other heads keep val/ndcg@10."""

from __future__ import annotations

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.data import CausalRecDataModule, InteractionData
from causalrec.encoders.id import IDEncoder
from causalrec.evaluation.causal import logged_causal_metrics
from causalrec.heads import BPRHead, DLCEHead, ULRMFHead
from causalrec.models import CausalRecModule


def _uplift_dm(n_users=30, n_items=40, per_user=20, seed=0):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    prop = rng.uniform(0.1, 0.9, len(users))
    z = (rng.random(len(users)) < prop).astype(np.int8)
    y = (rng.random(len(users)) < 0.1 + 0.3 * z).astype(np.int8)
    df = pd.DataFrame({"user": users, "item": items, "label": y, "exposure": z,
                       "propensity": prop})
    dm = CausalRecDataModule(InteractionData(df, n_users, n_items), batch_size=128,
                             eval_batch_size=16, negatives=0, train_rows="all", seed=seed)
    dm.setup()
    return dm


def test_auto_monitor_is_the_heads_own():
    dm = _uplift_dm()
    enc = IDEncoder(dm.train_data, dim=4)
    assert CausalRecModule(enc, ULRMFHead(enc, dm.train_data), monitor="auto").monitor \
        == "val/ips_cdcg@10"
    assert CausalRecModule(enc, BPRHead(enc, dm.train_data), monitor="auto").monitor \
        == "val/ndcg@10"
    explicit = CausalRecModule(enc, ULRMFHead(enc, dm.train_data), monitor="val/ndcg@10")
    assert explicit.monitor == "val/ndcg@10" and not explicit.causal_metrics
    with pytest.raises(ValueError, match=r"model.ks=\(5,\)"):
        CausalRecModule(enc, DLCEHead(enc, dm.train_data), ks=(5,), monitor="auto")


def test_a_fit_logs_and_checkpoints_on_the_logged_causal_metric(tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint

    dm = _uplift_dm()
    torch.manual_seed(0)
    enc = IDEncoder(dm.train_data, dim=4)
    model = CausalRecModule(enc, ULRMFHead(enc, dm.train_data), monitor="auto",
                            optimizer=lambda p: torch.optim.Adam(p, lr=0.01))
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor=model.monitor, mode="max", save_top_k=1)
    trainer = L.Trainer(max_epochs=2, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[ckpt], num_sanity_val_steps=0)
    trainer.fit(model, datamodule=dm)
    # the logged value is the estimate from the validation rows under the final weights
    want = logged_causal_metrics(model.head, dm.split.valid, ks=(10,))
    got = trainer.callback_metrics
    assert float(got["val/ips_cdcg@10"]) == pytest.approx(want["ips_cdcg@10"], rel=1e-5)
    assert float(got["val/ips_cp@10"]) == pytest.approx(want["ips_cp@10"], rel=1e-5)
    assert ckpt.best_model_score is not None and ckpt.monitor == "val/ips_cdcg@10"
