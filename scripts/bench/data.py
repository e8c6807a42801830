"""Benchmark the data layer: load + split + one epoch of BPR batches.

Two datasets: MovieLens-100K (from the cache; fetched on first use) and a generated
1M-interaction set (100k users, 20k items, Zipf item popularity). For each: load, split
(RecBole's random 8:1:1 per user), datamodule setup (CSR masks, sorted positive keys; ml-100k also builds its default user text) and one
epoch of pairwise BPR batches (uniform negatives that avoid each user's positives), with the
peak of traced memory (tracemalloc sees NumPy's buffers) over split + setup + epoch.

Peer, side by side in the same process: the same negative sampling written as a Python loop
per interaction (rejection against a per-user set), on the same training rows; the ratio
says what vectorisation buys. Targets (issue 3): 1M epoch of batches < 10 s and < 2 GiB.

    python scripts/bench/data.py           # full: ml-100k + 1M
    python scripts/bench/data.py --quick   # smoke: ml-100k + 100k generated
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

import causalrec.data as crd
from causalrec.data import CausalRecDataModule, InteractionData
from causalrec.data.pairs import sorted_unique


def zipf_interactions(n_users: int, n_items: int, n: int, seed: int = 0) -> InteractionData:
    """``n`` distinct (user, item) pairs: users uniform, items Zipf(0.8) popular, vectorised."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_items + 1) ** 0.8
    p /= p.sum()
    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n:
        m = int((n - len(keys)) * 1.2) + 1000
        new = rng.integers(0, n_users, m) * n_items + rng.choice(n_items, m, p=p)
        keys = sorted_unique(np.r_[keys, new])
    keys = rng.permutation(keys)[:n]
    df = pd.DataFrame({"user": keys // n_items, "item": keys % n_items,
                       "timestamp": rng.permutation(n).astype(np.float64)})
    return InteractionData(df, n_users, n_items, name=f"zipf-{n}", source="bench")


def loop_negatives(users: np.ndarray, n_items: int, positives: list[set], seed: int) -> np.ndarray:
    """The peer: one Python iteration per interaction, rejection sampling against a set."""
    rng = np.random.default_rng(seed)
    out = np.empty(len(users), dtype=np.int64)
    for k, u in enumerate(users.tolist()):
        j = int(rng.integers(n_items))
        while j in positives[u]:
            j = int(rng.integers(n_items))
        out[k] = j
    return out


def bench(name: str, make, batch_size: int, peer_rows: int | None) -> dict:
    gc.collect()
    t0 = time.perf_counter()
    data = make()
    t_load = time.perf_counter() - t0
    tracemalloc.start()
    t0 = time.perf_counter()
    split = crd.make_split(data, "random", seed=0)
    t_split = time.perf_counter() - t0
    dm = CausalRecDataModule(data, sampling="pairwise", batch_size=batch_size, seed=0)
    t0 = time.perf_counter()
    dm.setup()
    t_setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_rows = n_batches = 0
    for batch in dm.train_dataloader():
        n_rows += len(batch["user"])
        n_batches += 1
    t_epoch = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    row = {"dataset": name, "interactions": len(data), "train rows": n_rows,
           "batches": n_batches, "load s": t_load, "split s": t_split, "setup s": t_setup,
           "epoch s": t_epoch, "peak MiB": peak / 2**20}
    del split
    # peer: Python-loop negatives on (a prefix of) the same training rows, vs the vectorised
    # sampler on the same rows
    tr = dm.train_data.interactions
    rows = len(tr) if peer_rows is None else min(peer_rows, len(tr))
    users = tr["user"].to_numpy(np.int64)[:rows]
    pos = [set() for _ in range(data.n_users)]
    for u, i in zip(tr["user"].tolist(), tr["item"].tolist()):
        pos[u].add(i)
    t0 = time.perf_counter()
    loop_negatives(users, data.n_items, pos, 0)
    t_loop = time.perf_counter() - t0
    from causalrec.data.datamodule import sample_negatives

    t0 = time.perf_counter()
    sample_negatives(np.random.default_rng(0), users, data.n_items, dm._train_pos_keys)
    t_vec = time.perf_counter() - t0
    row.update({"peer rows": rows, "loop neg s": t_loop, "vector neg s": t_vec,
                "speed-up": t_loop / max(t_vec, 1e-9)})
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    args = ap.parse_args(argv)
    n = 100_000 if args.quick else 1_000_000
    n_users, n_items = (10_000, 2_000) if args.quick else (100_000, 20_000)
    rows = [
        bench("ml-100k", lambda: crd.load("ml-100k", quiet=True), 2048, None),
        bench(f"zipf-{n // 1000}k ({n_users // 1000}k users, {n_items // 1000}k items)",
              lambda: zipf_interactions(n_users, n_items, n), 4096,
              None if args.quick else 200_000),
    ]
    table = pd.DataFrame(rows).set_index("dataset")
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.3f}".format):
        print(table.T.to_string())
    big = rows[-1]
    print(f"\nprocess max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} "
          "GiB (includes torch/lightning imports)")
    if not args.quick:
        print(f"1M target: epoch {big['epoch s']:.2f} s (< 10 s: "
              f"{'yes' if big['epoch s'] < 10 else 'NO'}), peak traced "
              f"{big['peak MiB'] / 1024:.2f} GiB (< 2 GiB: "
              f"{'yes' if big['peak MiB'] < 2048 else 'NO'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
