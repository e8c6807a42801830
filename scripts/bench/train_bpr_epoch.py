"""One CPU training epoch of BPR (ID encoder, dim 64) on a generated 1M-interaction set
(100k users x 20k items): wall time and peak memory, through the real training path
(CausalRecDataModule pairwise batches, CausalRecModule, Lightning Trainer).

The set is generated here, vectorised: each user gets ``per_user`` distinct items drawn
from a Zipf popularity mixed with one of ``clusters`` taste clusters (the dense
``generate_interactions`` builds a users x items logit matrix, 16 GB at this size).

    .venv/bin/python scripts/bench/train_bpr_epoch.py            # 100k x 20k, 1M rows
    .venv/bin/python scripts/bench/train_bpr_epoch.py --quick    # 10k x 2k, 100k rows
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def generate(n_users: int, n_items: int, per_user: int, clusters: int = 50, seed: int = 0):
    from causalrec.data import InteractionData

    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.9
    rng.shuffle(pop)
    item_cluster = rng.integers(0, clusters, n_items)
    user_cluster = rng.integers(0, clusters, n_users)
    # per cluster: the items of the cluster, by popularity; 70% of picks in-cluster
    draws = per_user * 2
    global_pick = rng.choice(n_items, size=(n_users, draws), p=pop / pop.sum())
    order = np.argsort(item_cluster, kind="stable")
    starts = np.searchsorted(item_cluster[order], np.arange(clusters + 1))
    sizes = np.diff(starts)[user_cluster]
    local = order[starts[user_cluster][:, None] +
                  (rng.random((n_users, draws)) ** 2 * sizes[:, None]).astype(np.int64)]
    pick = np.where(rng.random((n_users, draws)) < 0.7, local, global_pick)
    users = np.repeat(np.arange(n_users), draws)
    keys = np.unique(users.astype(np.int64) * n_items + pick.reshape(-1))
    u, i = keys // n_items, keys % n_items
    # keep per_user distinct items per user (fewer when a user drew fewer distinct ones)
    first = np.searchsorted(u, np.arange(n_users))
    rank = np.arange(len(u)) - first[u]
    keep = rank < per_user
    df = pd.DataFrame({"user": u[keep], "item": i[keep],
                       "label": np.ones(int(keep.sum()), np.float32)})
    return InteractionData(df, n_users, n_items, name="generated-1M",
                           source=f"train_bpr_epoch.generate(seed={seed})")


def peak_rss_gib() -> float:
    from causalrec.experiment.record import peak_memory_mb

    return peak_memory_mb() / 1024


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-fused", dest="fused", action="store_false",
                    help="plain (for-each) Adam instead of the fused CPU kernel")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.users, args.items = 10_000, 2_000
    import lightning as L
    import torch

    from causalrec.data import CausalRecDataModule
    from causalrec.encoders.id import IDEncoder
    from causalrec.heads import BPRHead
    from causalrec.models import CausalRecModule

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    data = generate(args.users, args.items, args.per_user)
    t_gen = time.perf_counter() - t0
    dm = CausalRecDataModule(data, split={"protocol": "random", "ratios": [1.0, 0.0, 0.0]},
                             batch_size=args.batch_size, sampling="pairwise")
    dm.setup()
    torch.manual_seed(0)
    enc = IDEncoder(dm.train_data, dim=64)
    model = CausalRecModule(enc, BPRHead(enc, dm.train_data),
                            optimizer=lambda p: torch.optim.Adam(p, lr=1e-3, fused=args.fused))
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        limit_val_batches=0, num_sanity_val_steps=0)
    t1 = time.perf_counter()
    trainer.fit(model, train_dataloaders=dm.train_dataloader())
    t_epoch = time.perf_counter() - t1
    n = len(dm.train_data)
    print(f"{'interactions':<22} {n:,}")
    print(f"{'users x items':<22} {args.users:,} x {args.items:,}")
    print(f"{'batch/threads/fused':<22} {args.batch_size} / {args.threads} / {args.fused}")
    print(f"{'generate (s)':<22} {t_gen:.2f}")
    print(f"{'one BPR epoch (s)':<22} {t_epoch:.2f}   (target < 20 s)")
    print(f"{'interactions / s':<22} {n / t_epoch:,.0f}")
    print(f"{'peak RSS (GiB)':<22} {peak_rss_gib():.2f}   (target < 3 GiB)")
    print(f"{'train/loss':<22} {float(trainer.callback_metrics['train/loss']):.4f}")
    return {"epoch_s": t_epoch, "peak_gib": peak_rss_gib(), "n": n}


if __name__ == "__main__":
    main()
