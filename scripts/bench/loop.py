"""Closed-loop cost: 10 rounds with retraining on 10k users x 1k items (target: under 3
minutes and 3 GiB on 2 cores), the share of wall time spent simulating vs training, and each
head's popularity Gini over rounds.

    .venv/bin/python scripts/bench/loop.py                       # 10k x 1k, naive head
    .venv/bin/python scripts/bench/loop.py --users 2000 --items 300 --heads naive,ips
    .venv/bin/python scripts/bench/loop.py --users 1000 --items 200 \
        --heads naive,ips,dr_jl,ulrmf --seeds 5          # amplification, paired vs naive
"""

from __future__ import annotations

import argparse
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--items", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--heads", default="naive")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..n-1 (overrides --seed)")
    ap.add_argument("--epochs-per-round", type=int, default=2)
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd
    import torch

    from causalrec.experiment.api import compose
    from causalrec.experiment.record import peak_memory_mb
    from causalrec.experiment.tasks.loop import simulate_loop

    torch.set_num_threads(2)
    seeds = range(args.seeds) if args.seeds > 1 else [args.seed]
    change = {}
    for head, seed in [(h, s) for h in args.heads.split(",") for s in seeds]:
        cfg = compose(["experiment=feedback_loop", f"head={head}", f"seed={seed}",
                       f"study.rounds={args.rounds}", f"study.simulator.n_users={args.users}",
                       f"study.simulator.n_items={args.items}",
                       f"study.epochs_per_round={args.epochs_per_round}",
                       "paths.output_dir=/tmp/causalrec-bench-loop"])
        t0 = time.perf_counter()
        per_round, log = simulate_loop(cfg)
        wall = time.perf_counter() - t0
        train = per_round["train_seconds"].sum()
        sim = per_round["simulate_seconds"].sum()
        peak = peak_memory_mb() / 1024
        print(f"head {head}: {args.rounds} rounds, {args.users} users x {args.items} items, "
              f"{len(log):,} logged rows: wall {wall:.1f} s (target < 180 s), training "
              f"{train / wall:.0%}, simulation {sim / wall:.0%}, rest (initial world, metrics) "
              f"{1 - (train + sim) / wall:.0%}; peak RSS {peak:.2f} GiB (target < 3)")
        print("  gini by round: " + " ".join(f"{g:.3f}" for g in per_round["gini"]))
        print("  true value by round: " + " ".join(f"{v:.4f}" for v in per_round["value"]))
        # amplification: Gini of the last deployed round minus the first deployed round
        change[(head, seed)] = float(per_round["gini"].iloc[-1] - per_round["gini"].iloc[1])
    if len(seeds) > 1 and len(args.heads.split(",")) > 1:
        c = pd.Series(change).unstack(0)[args.heads.split(",")]  # the first head is the base
        base = c[c.columns[0]]
        rows = []
        for h in c.columns:
            d = c[h] - base
            se = d.std(ddof=1) / np.sqrt(len(d))
            rows.append({"head": h, "gini change (round 1 -> last)": c[h].mean(),
                         "se": c[h].std(ddof=1) / np.sqrt(len(c)),
                         f"vs {c.columns[0]}": d.mean(),
                         "in SE": d.mean() / se if se > 0 else float("nan")})
        print(f"\namplification over {len(seeds)} seeds (paired, same worlds)")
        print(pd.DataFrame(rows).set_index("head").round(4).to_string())


if __name__ == "__main__":
    main()
