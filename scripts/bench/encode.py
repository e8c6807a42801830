"""Benchmark the text intent encoder against sentence-transformers, and its embedding cache.

1. Agreement and throughput: encode the ml-100k item texts (1682) and user texts (943,
   rendered from the users' histories by ``causalrec.data.user_texts``) with
   all-MiniLM-L6-v2 through ``causalrec.encoders.TextModel.embed`` and through
   ``sentence_transformers.SentenceTransformer.encode`` in its own venv (same model
   directory, same texts, same batch size and threads, interleaved ``--repeats`` pairs): the
   minimum cosine of every pair (must be >= 0.9999, else the run fails) and the median
   throughput ratio causalrec / sentence-transformers with its min-max, by wall time and by
   process CPU time (less sensitive to other jobs on a shared machine). causalrec's edge
   comes from batching by token length (ST sorts by characters; ~10% fewer padded tokens
   on these texts, ~7% on review texts), tokenizing once, encoding duplicate texts once,
   and on one torch thread batches of at most 2048 token positions (``batch_tokens``).
   Both libraries spend almost all their time in the same torch kernels (a cProfile of
   ``embed``: linear layers 66%, attention 13%, GELU 7%, layer norm 5%).
2. Cache: the same texts through ``TextIntentEncoder`` with an empty cache directory (cold:
   encode + write shards), then again (warm: memory-mapped read), and once more in a fresh
   Python process (warm, nothing memoised); the ratios cold / warm.
3. Cold start (``--skip-cold-start`` to leave out): ml-100k ``cold_start`` split (whole items
   unseen in training); zero-shot scoring, no training: users are the mean MiniLM vector of
   their training items (``users: history``), items their own text vector, with and without
   centering (``center``: subtract the mean item vector); NDCG@10 over the held-out test
   items against the exact expectation of a random ranking of the same items. An ID-only model has
   no trained embedding for these items and cannot rank them at all.

4. Review-length texts (``--reviews N``, e.g. 20000; runs only this section): N texts of
   about 110 tokens written by the simulator's review writer
   (``causalrec.sim.text.topic_user_texts``, 8 sentences each); throughput beside
   sentence-transformers as in 1 (one line per pair as it finishes, with the load average),
   the token positions each library runs through the model (real + padding; causalrec sorts
   by token count, sentence-transformers by characters), then the cache as in 2 plus the
   cache's share of a rerun after 10% of the texts changed (vectors served from the cache,
   and the rerun's time against the cold run).

The full-size review benchmark (on 2 cores about 65 s per 2,000 texts per library and
pair, so about 1.5 hours in all at 20,000 texts and 3 pairs)::

    .venv/bin/python scripts/bench/encode.py --reviews 20000 --repeats 3

``--threads N`` sets torch's threads for both libraries (on a shared, loaded machine 1
thread gives the steadier ratio).

Run: ``.venv/bin/python scripts/bench/encode.py`` (``--quick``: 300 generated texts, no
ml-100k, no cold start).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CAUSALREC_QUIET", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))


def generated_texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    words = ("space adventure romantic comedy documentary thriller heist family drama music "
             "war western horror night love crime classic animated story city journey").split()
    return [" ".join(rng.choice(words, size=int(rng.integers(2, 40)))).capitalize() + "."
            for _ in range(n)]


def ml100k_texts():
    import causalrec.data as crd

    data = crd.load("ml-100k")
    return data, list(data.item_text), crd.user_texts(data)


def review_texts(n: int, sentences: int = 8, seed: int = 0) -> list[str]:
    """``n`` review-like texts of ``sentences`` sentences (about 100 MiniLM tokens at 8)."""
    from causalrec.sim.text import topic_user_texts

    rng = np.random.default_rng(seed)
    return topic_user_texts(rng, rng.dirichlet(np.full(12, 0.3), size=n), sentences, 0.2)


ST_VERSION = "6.2.0"

ST_WORKER = r'''
import json, time
import numpy as np
import torch
import sentence_transformers
from sentence_transformers import SentenceTransformer
STATE = {}

def handle(req):
    if req["cmd"] == "load":
        torch.set_num_threads(int(req["threads"]))
        STATE["model"] = SentenceTransformer(req["model"], device="cpu")
        STATE["texts"] = json.load(open(req["texts"]))
        STATE["model"].encode(STATE["texts"][:req["batch_size"]], batch_size=req["batch_size"])
        return {"version": sentence_transformers.__version__, "torch": torch.__version__}
    t0, c0 = time.perf_counter(), time.process_time()
    vec = STATE["model"].encode(STATE["texts"], batch_size=req["batch_size"],
                                convert_to_numpy=True, show_progress_bar=False)
    out = {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    np.save(req["out"], vec)
    return out
'''


def st_python():
    from peers import peer_venv, torch_requirement

    return peer_venv(f"sentence-transformers-{ST_VERSION}",
                     "import sentence_transformers as s; print(s.__version__)", ST_VERSION,
                     installs=[[torch_requirement(), f"sentence-transformers=={ST_VERSION}"]])


def bench_throughput(texts: list[str], batch_size: int, repeats: int,
                     st_batch_size: int = 0) -> dict:
    """causalrec's ``TextModel.embed`` in this process and sentence-transformers'
    ``encode`` in its own venv (a worker process, timed inside), same model directory, same
    texts, same torch threads, interleaved; the batch size ``batch_size`` for both (causalrec
    also caps a CPU batch at ``TextModel.batch_tokens`` token positions) unless
    ``st_batch_size`` gives sentence-transformers its own; every repeat's embeddings must
    agree (cosine >= 0.9999) or the benchmark fails."""
    import json

    import torch
    from peers import WORKER_LOOP, Worker, fail, ratio_summary, summary

    from causalrec.encoders.transformer import TextModel

    ours = TextModel("minilm", pooling="mean", normalize=True, batch_size=batch_size,
                     device="cpu").load()
    ours.embed(texts[:batch_size])  # warm-up (allocator, kernels)
    threads = torch.get_num_threads()
    st_batch = st_batch_size or batch_size
    tokens = padded_tokens(texts, ours, st_batch)
    t_ours, t_st, c_ours, c_st, cos_min = [], [], [], [], 1.0
    with tempfile.TemporaryDirectory() as tmp, \
            Worker(st_python(), ST_WORKER + WORKER_LOOP, Path(tmp),
                   env={"OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1",
                        "TOKENIZERS_PARALLELISM": "false"}) as st:
        path = Path(tmp) / "texts.json"
        path.write_text(json.dumps(texts))
        info = st.ask(cmd="load", model=str(ours.resolved.path), texts=str(path),
                      batch_size=st_batch, threads=threads)
        for rep in range(repeats):  # A B A B
            t0, c0 = time.perf_counter(), time.process_time()
            our_vec = ours.embed(texts, progress=False)
            t_ours.append(time.perf_counter() - t0)
            c_ours.append(time.process_time() - c0)
            out = Path(tmp) / f"st{rep}.npy"
            r = st.ask(cmd="run", batch_size=st_batch, out=str(out))
            t_st.append(r["seconds"])
            c_st.append(r["cpu"])
            st_vec = np.load(out)
            cos = (our_vec * st_vec).sum(1) / (np.linalg.norm(our_vec, axis=1)
                                               * np.linalg.norm(st_vec, axis=1))
            cos_min = min(cos_min, float(cos.min()))
            print(f"  pair {rep + 1}/{repeats}: causalrec {t_ours[-1]:.1f} s, "
                  f"sentence-transformers {t_st[-1]:.1f} s, ratio {t_st[-1] / t_ours[-1]:.3f}, "
                  f"min cosine {float(cos.min()):.7f}, load average {os.getloadavg()[0]:.2f}",
                  flush=True)
            if cos_min < 0.9999:
                fail(f"embeddings differ from sentence-transformers: min cosine {cos_min:.6f}")
    r = ratio_summary(t_ours, t_st)
    rc = ratio_summary(c_ours, c_st)
    summary("encode", f"sentence-transformers {info['version']}", "sentence-transformers time "
            f"/ causalrec time (MiniLM, {len(texts)} texts)", r, f"agreement: min cosine "
            f"{cos_min:.6f}")
    return {"peer": f"sentence-transformers {info['version']} (own venv, torch "
                    f"{info['torch']})", "texts": len(texts), "batch_size": batch_size,
            "causalrec_batch_tokens": ours.token_budget, "st_batch_size": st_batch,
            "threads": threads, "pairs": len(t_ours),
            "causalrec_s": r["ours_s"], "st_s": r["peer_s"],
            "causalrec_texts_per_s": len(texts) / r["ours_s"],
            "st_texts_per_s": len(texts) / r["peer_s"],
            "throughput_ratio": r["median"], "ratio_min": r["min"], "ratio_max": r["max"],
            "cpu_time_ratio": rc["median"], "cpu_ratio_min": rc["min"],
            "cpu_ratio_max": rc["max"], "cos_min": cos_min, **tokens}


def padded_tokens(texts: list[str], ours, st_batch: int) -> dict:
    """Token positions each library runs through the model (real + padding): causalrec
    batches texts sorted by token count (``TextModel._batches``), sentence-transformers
    ``st_batch`` texts sorted by characters."""
    lengths = np.array([len(x) for x in ours.tokenize(texts)])
    order = np.argsort(-lengths, kind="stable")
    batches = ours._batches(lengths[order])
    ours_total = int(sum(lengths[order[b]].max() * len(order[b]) for b in batches))
    st_order = np.argsort([-len(t) for t in texts])
    st_total = int(sum(lengths[st_order[s:s + st_batch]].max() * len(st_order[s:s + st_batch])
                       for s in range(0, len(texts), st_batch)))
    return {"causalrec_mean_batch": len(texts) / len(batches), "tokens_real": int(lengths.sum()),
            "tokens_run_causalrec": ours_total, "tokens_run_st": st_total,
            "tokens_st_over_causalrec": st_total / ours_total}


_FRESH = """
import os, sys, time, json
os.environ["CAUSALREC_QUIET"] = "1"
import numpy as np, pandas as pd
from causalrec.data import InteractionData
from causalrec.encoders import TextIntentEncoder
texts = json.load(open(sys.argv[1]))
n_i, n_u = len(texts["item"]), len(texts["user"])
data = InteractionData(pd.DataFrame({"user": np.zeros(1, np.int64), "item": np.zeros(1, np.int64)}),
                       n_users=n_u, n_items=n_i, item_text=texts["item"], user_text=texts["user"])
t0 = time.perf_counter()
enc = TextIntentEncoder(data, dim=64, cache_dir=sys.argv[2], device="cpu")
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "encoded": sum(s.encoded for s in enc.cache_stats.values())}))
"""


def bench_cache(item_text: list[str], user_text: list[str], batch_size: int,
                changed: float = 0.0) -> dict:
    """``TextIntentEncoder`` construction with an empty cache (cold: load the model, encode,
    write shards), again (warm), in a fresh process (warm, nothing memoised), and, with
    ``changed`` > 0, a rerun after that share of the texts was rewritten: the share of its
    vectors the cache served and its time against the cold run."""
    import json

    import pandas as pd

    from causalrec.data import InteractionData
    from causalrec.encoders import TextIntentEncoder
    from causalrec.encoders.cache import text_sha256

    def build(items, users, cache_dir):
        data = InteractionData(pd.DataFrame({"user": np.zeros(1, np.int64),
                                             "item": np.zeros(1, np.int64)}),
                               n_users=len(users), n_items=len(items), item_text=items,
                               user_text=users, name="bench")
        t0 = time.perf_counter()
        enc = TextIntentEncoder(data, dim=64, cache_dir=cache_dir, batch_size=batch_size,
                                device="cpu")
        return time.perf_counter() - t0, sum(s.encoded for s in enc.cache_stats.values())

    n = len(item_text) + len(user_text)
    t0 = time.perf_counter()
    for t in item_text + user_text:
        text_sha256(t)
    hash_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = os.path.join(tmp, "embeddings")
        (cold, n_cold), (warm, n_warm) = [build(item_text, user_text, cache_dir)
                                          for _ in range(2)]
        path = os.path.join(tmp, "texts.json")
        with open(path, "w") as fh:
            json.dump({"item": item_text, "user": user_text}, fh)
        out = subprocess.run([sys.executable, "-c", _FRESH, path, cache_dir], check=True,
                             capture_output=True, text=True)
        fresh = json.loads(out.stdout.strip().splitlines()[-1])
        result = {"texts": n, "cold_s": cold, "cold_encoded": n_cold, "hash_all_texts_s": hash_s,
                  "warm_s": warm, "warm_encoded": n_warm,
                  "fresh_process_warm_s": fresh["seconds"], "fresh_encoded": fresh["encoded"],
                  "speedup_warm": cold / warm, "speedup_fresh_process": cold / fresh["seconds"],
                  "load_avg_1min": os.getloadavg()[0]}
        if changed:
            k_i, k_u = round(changed * len(item_text)), round(changed * len(user_text))
            rerun_s, n_rerun = build([t + " Edited." for t in item_text[:k_i]] + item_text[k_i:],
                                     [t + " Edited." for t in user_text[:k_u]] + user_text[k_u:],
                                     cache_dir)
            result.update({"rerun_changed_share": (k_i + k_u) / n, "rerun_s": rerun_s,
                           "rerun_encoded": n_rerun,
                           "rerun_cache_share": 1.0 - n_rerun / n,
                           "rerun_time_share_of_cold": rerun_s / cold})
    return result


def random_ndcg_at_k(n_candidates: np.ndarray, n_targets: np.ndarray, k: int) -> np.ndarray:
    """Exact expected NDCG@k of a uniformly random ranking: each rank holds a target with
    probability t/n, so E[DCG] = (t/n) * sum_{r<=min(k,n)} 1/log2(r+1)."""
    out = np.empty(len(n_candidates))
    for i, (n, t) in enumerate(zip(n_candidates, n_targets, strict=True)):
        disc = 1.0 / np.log2(np.arange(2, min(k, n) + 2))
        out[i] = (t / n) * disc.sum() / disc[:min(k, t)].sum()
    return out


def bench_cold_start(data, k: int = 10, seed: int = 0) -> dict:
    import torch

    import causalrec.data as crd
    from causalrec.encoders import TextIntentEncoder
    from causalrec.evaluation.ranking import ndcg, topk_hits

    split = crd.make_split(data, "cold_start", seed=seed)
    train, test = split.train, split.test
    cache_dir = os.path.join(tempfile.gettempdir(), "causalrec-bench-emb")
    encoders = {center: TextIntentEncoder(train, dim=None, users="history", device="cpu",
                                          cache_dir=cache_dir, center=center)
                for center in (False, True)}
    held_out = np.unique(test.interactions["item"].to_numpy())
    seen = np.unique(train.interactions["item"].to_numpy())
    assert not np.intersect1d(held_out, seen).size, "cold-start items leaked into training"
    users = np.unique(test.interactions["user"].to_numpy())
    target = torch.zeros(len(users), len(held_out), dtype=torch.bool)
    col = {int(it): j for j, it in enumerate(held_out)}
    row = {int(u): i for i, u in enumerate(users)}
    for u, it in test.interactions[["user", "item"]].itertuples(index=False):
        target[row[int(u)], col[int(it)]] = True
    n_t = target.sum(1)
    result = {"train_items": len(seen), "held_out_items": len(held_out),
              "test_users": len(users)}
    rand = float(random_ndcg_at_k(np.full(len(users), len(held_out)), n_t.numpy(), k).mean())
    for center, enc in encoders.items():
        with torch.no_grad():
            scores = enc.encode_users(torch.as_tensor(users)) @ enc.encode_items(
                torch.as_tensor(held_out)).T
        hits, _ = topk_hits(scores, target, k)
        name = "centered" if center else "raw"
        result[f"ndcg@10_text_{name}"] = ndcg(hits, n_t).mean().item()
    result["ndcg@10_random"] = float(rand)
    result["ratio_centered"] = result["ndcg@10_text_centered"] / rand
    result["ratio_raw"] = result["ndcg@10_text_raw"] / rand
    return result


def _table(title: str, rows: dict) -> None:
    print(f"\n== {title}")
    for key, value in rows.items():
        shown = f"{value:.6f}" if isinstance(value, float) else str(value)
        print(f"  {key:<26} {shown}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 generated texts, no ml-100k")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-cold-start", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                    help="cold-start split seeds")
    ap.add_argument("--st-batch-size", type=int, default=0,
                    help="sentence-transformers' batch size (0: --batch-size)")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads for both libraries (0: torch's default)")
    ap.add_argument("--reviews", type=int, default=0,
                    help="only the review-length section, with this many texts (e.g. 20000)")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.reviews:
        return bench_reviews(args.reviews, args.batch_size, args.repeats, args.st_batch_size)
    if args.quick:
        data, item_text, user_text = None, generated_texts(200), generated_texts(100, seed=1)
        args.repeats = min(args.repeats, 2)
    else:
        data, item_text, user_text = ml100k_texts()
    texts = item_text + user_text
    results = {"throughput": bench_throughput(texts, args.batch_size, args.repeats,
                                                 args.st_batch_size)}
    _table(f"MiniLM encode: causalrec vs sentence-transformers ({len(item_text)} item + "
           f"{len(user_text)} user texts, {args.repeats} interleaved pairs; ratio = median "
           "sentence-transformers time / causalrec time)", results["throughput"])
    results["cache"] = bench_cache(item_text, user_text, args.batch_size)
    _table("embedding cache: cold run vs cache hit (TextIntentEncoder construction)",
           results["cache"])
    if data is not None and not args.skip_cold_start:
        for seed in args.seeds:
            results[f"cold_start_seed{seed}"] = res = bench_cold_start(data, seed=seed)
            _table(f"ml-100k cold-start items (split seed {seed}): zero-shot NDCG@10 over the "
                   "held-out items (an ID-only model cannot score them)", res)
    return results


def bench_reviews(n: int, batch_size: int, repeats: int, st_batch_size: int = 0) -> dict:
    from causalrec.encoders.transformer import TextModel

    texts = review_texts(n)
    tokens = np.mean([len(x) for x in TextModel("minilm", device="cpu").tokenize(texts[:500])])
    print(f"review-length texts: {n} (mean {tokens:.0f} tokens), batch size {batch_size}, "
          f"{repeats} interleaved pairs; load average {os.getloadavg()}", flush=True)
    results = {"throughput": bench_throughput(texts, batch_size, repeats, st_batch_size)}
    _table(f"MiniLM encode, review-length texts ({n} texts, mean {tokens:.0f} tokens; "
           f"{repeats} interleaved pairs; ratio = median sentence-transformers time / "
           "causalrec time)", results["throughput"])
    results["cache"] = bench_cache(texts[: n // 2], texts[n // 2:], batch_size, changed=0.1)
    _table("embedding cache on the review texts: cold run, cache hit (same and fresh "
           "process), and a rerun after 10% of the texts changed (the cache's share)",
           results["cache"])
    c = results["cache"]
    print(f"SUMMARY | encode | cache | rerun after 10% of {n} texts changed | "
          f"{c['rerun_cache_share']:.0%} of vectors from the cache | "
          f"{c['rerun_time_share_of_cold']:.1%} of the cold time | 1 | unchanged rerun "
          f"{c['speedup_warm']:.0f}x faster than cold", flush=True)
    return results


if __name__ == "__main__":
    main()
