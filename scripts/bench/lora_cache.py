"""Benchmark LoRA fine-tuning of MiniLM with the frozen bottom's token states cached.

``encoder=minilm_lora`` trains LoRA adapters on the top ``--layers`` of MiniLM's 6 layers.
The token states entering the first adapted layer depend only on frozen weights and the
text, so ``TextIntentEncoder`` with a ``cache_dir`` caches them per text
(``causalrec.encoders.cache_states``) and a training step runs only the top layers. This
script measures, on ``--texts`` review-length item texts (about 110 tokens, the simulator's
review writer):

1. building the encoder: no cache (tokenize only), cold cache (compute + write the states),
   warm cache (read them), with the cache's size on disk;
2. a training step (forward + backward + SGD on ``--batch`` items): cached vs full
   forward, interleaved ``--steps`` pairs from the same starting adapters, the median ratio
   full / cached with its min-max; and the largest difference of the item vectors before
   training (the two paths compute the same function).

Run: ``.venv/bin/python scripts/bench/lora_cache.py`` (``--texts 64 --steps 3`` for a check).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("CAUSALREC_QUIET", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _data(texts):
    import pandas as pd

    from causalrec.data import InteractionData

    return InteractionData(pd.DataFrame({"user": np.zeros(1, np.int64),
                                         "item": np.zeros(1, np.int64)}),
                           n_users=1, n_items=len(texts), item_text=texts, name="bench")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2, help="top layers with LoRA adapters")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    import torch
    from encode import review_texts

    from causalrec.encoders import TextIntentEncoder

    torch.set_num_threads(args.threads)
    texts = review_texts(args.texts)
    data = _data(texts)
    kw = dict(dim=64, users="id", device="cpu", trainable_layers=args.layers,
              lora={"r": 8, "alpha": 16}, progress=False)
    out: dict = {"texts": len(texts), "lora_layers": f"top {args.layers} of 6",
                 "threads": args.threads, "load_avg_1min": os.getloadavg()[0]}
    TextIntentEncoder(_data(texts[:2]), **kw)  # warm-up: imports, first weight load
    with tempfile.TemporaryDirectory() as tmp:
        encs = {}
        for name, cache_dir in (("no cache", None), ("cold cache", tmp), ("warm cache", tmp)):
            torch.manual_seed(0)
            t0 = time.perf_counter()
            encs[name] = TextIntentEncoder(data, cache_dir=cache_dir, **kw)
            out[f"build_{name.replace(' ', '_')}_s"] = time.perf_counter() - t0
        out["cache_mb"] = sum(p.stat().st_size for p in Path(tmp).rglob("*")
                              if p.is_file()) / 2**20
    full, cached = encs["no cache"], encs["warm cache"]
    full.load_state_dict(cached.state_dict())
    full.eval()
    cached.eval()
    with torch.no_grad():
        out["max_abs_diff_item_vectors"] = float((full.all_items()
                                                  - cached.all_items()).abs().max())
    rng = np.random.default_rng(0)
    opts = {id(e): torch.optim.SGD([p for p in e.parameters() if p.requires_grad], lr=0.1)
            for e in (full, cached)}

    def step(enc, items) -> float:
        enc.train()
        t0 = time.perf_counter()
        opts[id(enc)].zero_grad()
        vec = enc.encode_items(items)
        loss = -(vec @ enc.encode_users(torch.zeros(1, dtype=torch.long)).T).sigmoid().log().mean()
        loss.backward()
        opts[id(enc)].step()
        return time.perf_counter() - t0

    t_full, t_cached = [], []
    for _ in range(args.steps):  # A B A B, the same batch for both
        items = torch.as_tensor(rng.choice(len(texts), args.batch, replace=False))
        t_cached.append(step(cached, items))
        t_full.append(step(full, items))
    ratios = [f / c for f, c in zip(t_full, t_cached, strict=True)]
    out.update(step_full_s=statistics.median(t_full), step_cached_s=statistics.median(t_cached),
               step_speedup=statistics.median(ratios), speedup_min=min(ratios),
               speedup_max=max(ratios), pairs=len(ratios))
    out["load_avg_1min_end"] = os.getloadavg()[0]
    print(f"\n== LoRA on MiniLM with the frozen bottom cached ({len(texts)} review texts, "
          f"batch {args.batch}; speed-up = full-forward step time / cached step time)")
    for key, value in out.items():
        print(f"  {key:<28} {value:.4g}" if isinstance(value, float) else f"  {key:<28} {value}")
    return out


if __name__ == "__main__":
    main()
