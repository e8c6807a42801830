"""Top-10 recommendations at catalogue scale: the Recommender (exact chunked top-K, and a
faiss HNSW index) beside the same model's ``head.full_scores`` + ``torch.topk`` in plain
torch.

A BPR model with an ID encoder (dim 64) over 10k, 100k and 1M items; its item and user
vectors are drawn from 256 clusters plus noise (trained embeddings are clustered; uniform
random vectors are the worst case for any index). Each user has 20 seen items, masked as
``recommend(..., exclude_seen=True)`` masks them. Reported per catalogue size:

* per-user latency p50/p99 (one user per call) and batched throughput (users/s);
* the plain-torch peer: ``head.full_scores(users)``, ``masked_fill`` of the seen items and
  ``torch.topk``, in the same chunks; ratio = Recommender / plain;
* faiss HNSW (M=32, efSearch=128): build time, latency, throughput, recall@10 against exact,
  and its throughput over exact.

    python scripts/bench/recommend.py [--quick] [--threads 2] [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch


def build(n_users: int, n_items: int, dim: int, seed: int = 0):
    """A Recommender over a BPR/ID model with clustered vectors and 20 seen items per user."""
    from causalrec.data import InteractionData
    from causalrec.encoders import IDEncoder
    from causalrec.heads import BPRHead
    from causalrec.models import CausalRecModule
    from causalrec.recommend import Recommender

    rng = np.random.default_rng(seed)
    seen = 20
    users = np.repeat(np.arange(n_users), seen)
    items = rng.integers(0, n_items, size=len(users))
    data = InteractionData(pd.DataFrame({"user": users, "item": items}), n_users=n_users,
                           n_items=n_items)
    enc = IDEncoder(data, dim=dim)
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(256, dim, generator=g)
    with torch.no_grad():
        for emb, n in ((enc.item_emb, n_items), (enc.user_emb, n_users)):
            pick = torch.randint(256, (n,), generator=g)
            emb.weight.copy_(centres[pick] + 0.7 * torch.randn(n, dim, generator=g))
    module = CausalRecModule(enc, BPRHead(enc, data)).eval()
    return Recommender.from_module(module, data), module.head


def plain_topk(head, seen_csr, users: np.ndarray, k: int, chunk: int):
    """The peer: full_scores + masked_fill of the seen items + topk, in plain torch."""
    out = []
    with torch.no_grad():
        for s in range(0, len(users), chunk):
            u = users[s:s + chunk]
            scores = head.full_scores(torch.from_numpy(u))
            sub = seen_csr[u]
            rows = np.repeat(np.arange(len(u)), np.diff(sub.indptr))
            mask = torch.zeros_like(scores, dtype=torch.bool)
            mask[torch.from_numpy(rows), torch.from_numpy(sub.indices.astype(np.int64))] = True
            out.append(torch.topk(scores.masked_fill(mask, float("-inf")), k, dim=1).indices)
    return torch.cat(out)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    res = fn(*args, **kwargs)
    return res, time.perf_counter() - t


def latency(fn, users: np.ndarray) -> tuple[float, float]:
    times = []
    for u in users:
        t = time.perf_counter()
        fn(np.array([u]))
        times.append(time.perf_counter() - t)
    ms = np.asarray(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def measure(n_items: int, n_users: int, k: int, args) -> list[str]:
    """The three table rows (Recommender exact, plain torch, faiss) for one catalogue."""
    from causalrec.recommend import recall_at_k

    rec, head = build(n_users, n_items, args.dim)
    n_batch = (2000 if n_items <= 100_000 else 500) // (4 if args.quick else 1)
    n_lat = 100 if n_items <= 100_000 else 30
    batch = np.random.default_rng(1).choice(n_users, size=n_batch, replace=False)
    single = batch[:n_lat]
    rec.topk_indices(batch[:8], k)  # warm-up (item matrix kept, allocator)
    (_, exact), t_exact = timed(rec.topk_indices, batch, k)
    peer, t_plain = timed(plain_topk, head, rec._seen, batch, k, rec._chunk())
    assert torch.equal(peer, exact), "the Recommender's exact lists differ from the peer's"
    lat = latency(lambda u: rec.topk_indices(u, k), single)
    lat_plain = latency(lambda u: plain_topk(head, rec._seen, u, k, 1), single)
    ups, ups_plain = n_batch / t_exact, n_batch / t_plain
    _, t_build = timed(rec.build_index, "hnsw", threads=args.threads)
    rec.topk_indices(batch[:8], k, approximate=True)
    (_, approx), t_ann = timed(rec.topk_indices, batch, k, True, None, "score", True)
    lat_ann = latency(lambda u: rec.topk_indices(u, k, approximate=True), single)
    recall = recall_at_k(approx, exact)
    ups_ann = n_batch / t_ann
    return [f"| {n_items:,} | exact (Recommender) | {lat[0]:.2f} | {lat[1]:.2f} | "
            f"{ups:,.0f} | {ups / ups_plain:.2f}x | 1.000 | - |",
            f"| {n_items:,} | plain torch full_scores + topk | {lat_plain[0]:.2f} | "
            f"{lat_plain[1]:.2f} | {ups_plain:,.0f} | 1.00x | 1.000 | - |",
            f"| {n_items:,} | faiss HNSW (Recommender) | {lat_ann[0]:.2f} | {lat_ann[1]:.2f} | "
            f"{ups_ann:,.0f} | {ups_ann / ups_plain:.2f}x ({ups_ann / ups:.1f}x exact) | "
            f"{recall:.3f} | {t_build:.1f} |"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k and 100k items, fewer users")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--dim", type=int, default=64)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    sizes = [int(x) for x in args.sizes.split(",")]
    if args.quick:
        sizes = [s for s in sizes if s <= 100_000]
    k, n_users = 10, 20_000
    print(f"top-{k}, dim {args.dim}, {n_users} users with 20 seen items each, "
          f"{args.threads} torch/faiss threads")
    head_row = ("| items | path | p50 ms/user | p99 ms/user | users/s (batched) | "
                "vs plain torch | recall@10 | build s |")
    lines = [head_row, "|" + "---|" * 8]
    for n_items in sizes:
        lines += measure(n_items, n_users, k, args)
        print(*lines[-3:], sep="\n", flush=True)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
