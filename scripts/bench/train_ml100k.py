"""Train causalrec heads on MovieLens-100K and print test metrics and wall time.

Runs the real training path (``causalrec.experiment.run``: datamodule, CausalRecModule,
early stopping and checkpointing on val/ndcg@10, test on the best checkpoint).

    .venv/bin/python scripts/bench/train_ml100k.py --protocol default --heads bpr
    .venv/bin/python scripts/bench/train_ml100k.py --protocol intervened --seeds 0 1 2
    .venv/bin/python scripts/bench/train_ml100k.py --quick

``--set`` adds Hydra overrides to every run (e.g. ``--set model.optimizer.lr=0.002``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

#: the tuned settings per head (the RecBole-Debias table tunes lr/dim/batch per model too)
DEFAULT_PROTOCOL = {
    "bpr": ["dataset=ml100k", "head=bpr", "encoder.dim=64", "model.optimizer.lr=0.002",
            "dataset.batch_size=2048", "trainer.max_epochs=60",
            "model.early_stopping_patience=5"],
}

INTERVENED = {
    "mf": ["head=naive"],
    "mf_ips": ["head=ips", "head.propensity.by=user", "head.propensity.eta=0.5"],
    "pda": ["head=pda"],
    "macr": ["head=macr"],
    "dice": ["head=dice"],
    "cause": ["head=cause"],
    "rel_mf": ["head=rel_mf"],
    "bpr": ["head=bpr"],
    # the intent-aware moonshot: frozen MiniLM text + ID embeddings (gated) under PDA
    "hybrid_pda": ["encoder=hybrid", "head=pda"],
    "hybrid_dice": ["encoder=hybrid", "head=dice"],
    # the gate starts on the ID side (sigmoid(-2) = 0.12 text): text as a residual signal
    "hybrid_pda_g": ["encoder=hybrid", "head=pda", "encoder.gate_bias=-2.0"],
    # item text + ID (gated), users by ID embedding
    "hybrid_pda_uid": ["encoder=hybrid", "head=pda", "encoder.gate_bias=-2.0",
                       "encoder.text.users=id"],
    "hybrid_dice_uid": ["encoder=hybrid", "head=dice", "encoder.gate_bias=-2.0",
                        "encoder.text.users=id"],
}
INTERVENED_COMMON = ["dataset=ml100k_intervened", "encoder.dim=64", "model.optimizer.lr=0.002",
                     "dataset.batch_size=2048", "trainer.max_epochs=60",
                     "model.early_stopping_patience=5"]
PUBLISHED = {"mf": 0.0969, "mf_ips": 0.1011, "pda": 0.1125, "macr": 0.1008, "dice": 0.1028,
             "cause": 0.0453, "rel_mf": 0.0427}


def run_one(overrides: list[str], seed: int, threads: int) -> dict:
    import torch

    from causalrec.experiment.api import run

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        metrics = run(overrides + [f"seed={seed}", "logger=none",
                                   "trainer.enable_progress_bar=false"], output_dir=tmp)
        metrics["wall_s"] = time.perf_counter() - start
    return metrics


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--protocol", choices=["default", "intervened"], default="default")
    ap.add_argument("--heads", nargs="*", default=None)
    ap.add_argument("--seeds", nargs="*", type=int, default=[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", nargs="*", default=[], dest="extra")
    ap.add_argument("--quick", action="store_true", help="2 epochs, one head: a smoke run")
    args = ap.parse_args(argv)
    table = DEFAULT_PROTOCOL if args.protocol == "default" else INTERVENED
    common = [] if args.protocol == "default" else INTERVENED_COMMON
    heads = args.heads or (["bpr"] if args.quick else list(table))
    extra = list(args.extra) + (["trainer.max_epochs=2"] if args.quick else [])
    results = {}
    print(f"{'head':<8} {'seed':>4} {'ndcg@10':>8} {'recall@10':>9} {'epochs':>6} {'wall_s':>7}",
          flush=True)
    for h in heads:
        rows = []
        for seed in args.seeds:
            m = run_one(common + table[h] + extra, seed, args.threads)
            rows.append(m)
            print(f"{h:<8} {seed:>4} {m['test/ndcg@10']:>8.4f} {m['test/recall@10']:>9.4f} "
                  f"{int(m.get('epochs', 0)):>6} {m['wall_s']:>7.1f}", flush=True)
        results[h] = rows
    print("\nsummary (mean over seeds)")
    print(f"{'head':<8} {'ndcg@10':>8} {'sd':>7} {'published':>9} {'ratio':>6} {'wall_s':>7}")
    for h, rows in results.items():
        v = [r["test/ndcg@10"] for r in rows]
        mean = statistics.fmean(v)
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        pub = PUBLISHED.get(h) if args.protocol == "intervened" else None
        ratio = f"{mean / pub:6.2f}" if pub else "     -"
        pubs = f"{pub:9.4f}" if pub else "        -"
        print(f"{h:<8} {mean:>8.4f} {sd:>7.4f} {pubs} {ratio} "
              f"{statistics.fmean(r['wall_s'] for r in rows):>7.1f}")
    return results


if __name__ == "__main__":
    main()
