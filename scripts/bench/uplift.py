"""Uplift vs outcome ranking on the semi-synthetic ML-100K uplift protocol (Sato et al.).

Each head is trained by the library (``cr.experiment.run``, ``dataset=ml100k_uplift``) and its
full ranking is scored by causal precision CP@10 and causal DCG@10 against the protocol's true
effects ``tau = p1 - p0`` (``causalrec.sim.uplift``), over seeds, with the paired gain of each
head over BPR in standard errors.

    .venv/bin/python scripts/bench/uplift.py                # 5 seeds
    .venv/bin/python scripts/bench/uplift.py --seeds 2 --epochs 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HEADS = {"BPR (outcome)": ["head=bpr"], "naive (outcome)": ["head=naive"],
         "ULRMF": ["head=ulrmf"], "ULBPR": ["head=ulbpr"], "DLCE": ["head=dlce"],
         "CUBN": ["head=cubn"]}


def run_head(name, overrides, seed, epochs, out: Path) -> dict:
    import causalrec as cr
    from causalrec.evaluation import causal_ranking_metrics
    from causalrec.sim.uplift import simulate_uplift

    common = ["dataset=ml100k_uplift", "logger=none", "trainer.enable_progress_bar=false",
              f"trainer.max_epochs={epochs}", "encoder.dim=32", "model.optimizer.lr=0.005",
              "model.early_stopping_patience=3", f"seed={seed}", "threads=1"]
    run_dir = out / f"{name.split()[0]}-{seed}"
    cr.experiment.run(common + overrides, output_dir=run_dir)
    cfg, dm, module = cr.experiment.load_model(run_dir, checkpoint="best.ckpt") \
        if (run_dir / "checkpoints" / "best.ckpt").exists() else _untrained(run_dir)
    src = {k: v for k, v in cfg.dataset.source.items() if k not in ("_target_", "source")}
    _, truth = simulate_uplift(cfg.dataset.source.source, **src)
    return causal_ranking_metrics(module.head, truth.tau, ks=(10,))


def _untrained(run_dir):
    """A fit-free head (CUBN) has no checkpoint: rebuild it from the run's config."""
    from omegaconf import OmegaConf

    from causalrec.models.build import build_datamodule, build_module

    cfg = OmegaConf.load(run_dir / "config.yaml")
    dm = build_datamodule(cfg)
    dm.setup("fit")
    return cfg, dm, build_module(cfg, dm.train_data, with_optimizer=False).eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for name, ov in HEADS.items():
                m = run_head(name, ov, seed, args.epochs, Path(tmp))
                rows.append({"head": name, "seed": seed, **m})
                print(f"seed {seed} {name:<16} CP@10 {m['cp@10']:+.4f}  CDCG@10 "
                      f"{m['cdcg@10']:+.4f}", flush=True)
    df = pd.DataFrame(rows)
    base = df[df["head"] == "BPR (outcome)"].set_index("seed")
    out = []
    for name, g in df.groupby("head", sort=False):
        g = g.set_index("seed")
        d = g["cp@10"] - base["cp@10"]
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        out.append({"head": name, "CP@10": g["cp@10"].mean(),
                    "se": g["cp@10"].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else np.nan,
                    "CDCG@10": g["cdcg@10"].mean(), "gain vs BPR": d.mean(),
                    "gain in SE": d.mean() / se if se and se > 0 else float("nan")})
    print(f"\nml100k uplift protocol, {args.seeds} seeds, {args.epochs} max epochs")
    print(pd.DataFrame(out).set_index("head").round(5).to_string())
    print(f"total {time.perf_counter() - t0:.0f} s")
    return df


if __name__ == "__main__":
    main()
