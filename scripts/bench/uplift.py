"""Uplift vs outcome ranking on the semi-synthetic ML-100K uplift protocol (Sato et al.).

Each head is trained by the library (``cr.experiment.run``, ``dataset=ml100k_uplift``) and its
full ranking is scored by causal precision CP@10 and causal DCG@10 against the protocol's true
effects ``tau = p1 - p0`` (``causalrec.sim.uplift``), over seeds, with the paired gain of each
head over BPR in standard errors. Early stopping and the tested checkpoint follow each head's
own validation metric (``model.monitor=auto``): outcome NDCG@10 for BPR and the pointwise
head, the IPS-unbiased causal DCG@10 of the logged validation rows (Sato et al. 2020;
``val/ips_cdcg@10``) for the uplift heads; ``--monitor val/ndcg@10`` selects every head on
outcome NDCG instead. The expected CP@10 / CDCG@10 of a uniformly random ranking (the mean
effect per user) and the CP@10 / CDCG@10 of ranking by the true effect are printed as
reference rows.

    .venv/bin/python scripts/bench/uplift.py                # 5 seeds
    .venv/bin/python scripts/bench/uplift.py --seeds 2 --epochs 5
    .venv/bin/python scripts/bench/uplift.py --dataset ml100k_uplift_single_z   # first design
    .venv/bin/python scripts/bench/uplift.py --noise        # the validation estimate's noise
    .venv/bin/python scripts/bench/uplift.py --trajectory ulrmf --epochs 12   # per epoch
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

HEADS = {"BPR (outcome)": ["head=bpr"], "naive (outcome)": ["head=naive"],
         "ULRMF": ["head=ulrmf"], "ULBPR": ["head=ulbpr"], "DLCE": ["head=dlce"],
         "CUBN": ["head=cubn"],
         # reference, not a Sato head: two outcome models, ranked by mu1 - mu0 (off by default)
         "T-learner": ["head=t_learner", "model.monitor=val/ips_cdcg@10"]}
DEFAULT_HEADS = [h for h in HEADS if h != "T-learner"]


def torch_threads():
    import torch

    torch.set_num_threads(1)


def run_head(name, overrides, seed, epochs, out: Path, monitor: str = "auto",
             dataset: str = "ml100k_uplift") -> dict:
    import causalrec as cr
    from causalrec.evaluation import causal_ranking_metrics
    common = [f"dataset={dataset}", "logger=none", "trainer.enable_progress_bar=false",
              f"trainer.max_epochs={epochs}", "encoder.dim=32", "model.optimizer.lr=0.005",
              "model.early_stopping_patience=3", f"seed={seed}", "threads=1",
              "model.causal_metrics=true"]
    if not any(o.startswith("model.monitor=") for o in overrides):
        common.append(f"model.monitor={monitor}")
    run_dir = out / f"{name.split()[0]}-{seed}-{zlib.crc32(' '.join(overrides).encode()):08x}"
    record = cr.experiment.run(common + overrides, output_dir=run_dir)
    cfg, dm, module = cr.experiment.load_model(run_dir, checkpoint="best.ckpt") \
        if (run_dir / "checkpoints" / "best.ckpt").exists() else _untrained(run_dir)
    truth = truth_of(cfg)
    best = record.get(f"best_{cfg.model.monitor}", record.get(cfg.model.monitor, np.nan))
    return {**causal_ranking_metrics(module.head, truth.tau, ks=(10,)), "val": float(best)}


def truth_of(cfg):
    """The protocol's truth for a run's config: the same source options and seed."""
    from omegaconf import OmegaConf

    src = OmegaConf.to_container(cfg.dataset.source, resolve=True)
    src.pop("_target_", None)
    return _truth(json.dumps(src, sort_keys=True))


@functools.lru_cache(maxsize=2)
def _truth(options: str):
    from causalrec.sim.uplift import simulate_uplift

    src = json.loads(options)
    return simulate_uplift(src.pop("source"), **src)[1]


def reference_rankings(seed, dataset: str = "ml100k_uplift") -> dict[str, dict]:
    """Two references from the truth alone: the expected CP@10 / CDCG@10 of a uniformly
    random full ranking (each position holds an item drawn uniformly, so its expected effect
    is the user's mean effect) and of the ranking by the true effect (the best possible)."""
    import causalrec as cr
    from causalrec.evaluation import causal_ranking_metrics

    cfg = cr.experiment.compose([f"dataset={dataset}", f"seed={seed}"])
    truth = truth_of(cfg)
    mean = truth.tau.mean(1)
    disc = (1 / np.log2(np.arange(2, 12))).sum()

    class ByTrueEffect:
        def full_scores(self, users):
            import torch

            return torch.as_tensor(truth.tau[np.asarray(users)])

    return {"random ranking": {"cp@10": float(mean.mean()),
                               "cdcg@10": float((mean * disc).mean())},
            "true-effect ranking": causal_ranking_metrics(ByTrueEffect(), truth.tau, ks=(10,))}


def _untrained(run_dir):
    """A fit-free head (CUBN) has no checkpoint: rebuild it from the run's config."""
    from omegaconf import OmegaConf

    from causalrec.models.build import build_datamodule, build_module

    cfg = OmegaConf.load(run_dir / "config.yaml")
    dm = build_datamodule(cfg)
    dm.setup("fit")
    return cfg, dm, build_module(cfg, dm.train_data, with_optimizer=False).eval()


def validation_noise(seed: int = 0, draws: int = 200, epochs: int = 7) -> pd.DataFrame:
    """How precisely can the logged validation rows rank models? For fixed rankings of each
    user's validation items (by the true effect, at random, by p1 = outcome ranking, and
    ULRMF's after ``epochs`` epochs of training), the validation log's treatments and outcomes
    are redrawn from the truth ``draws`` times; the IPS estimate of CDCG@10 (what uplift heads
    early-stop on) is compared with the true CDCG@10 of the same ranking of the same items
    (``tau`` in place of the IPS term) and with its value on the realised log."""
    import lightning as L
    import torch

    import causalrec as cr
    from causalrec.evaluation.causal import ips_causal_ranking_from_rows
    from causalrec.models.build import build_datamodule, build_module

    cfg = cr.experiment.compose(["dataset=ml100k_uplift", f"seed={seed}", "head=ulrmf",
                                 "encoder.dim=32", "model.optimizer.lr=0.005"])
    L.seed_everything(seed, verbose=False)
    dm = build_datamodule(cfg, seed=seed)
    dm.setup()
    module = build_module(cfg, dm.train_data)
    L.Trainer(max_epochs=epochs, logger=False, enable_progress_bar=False, limit_val_batches=0,
              enable_checkpointing=False, enable_model_summary=False).fit(module, datamodule=dm)
    truth = truth_of(cfg)
    v = dm.split.valid.interactions
    u, i, prop = v["user"].to_numpy(), v["item"].to_numpy(), v["propensity"].to_numpy()
    p0, p1 = truth.p0[u, i], truth.p1[u, i]
    rng = np.random.default_rng(seed)
    ones = np.ones(len(u))
    rows = []
    with torch.no_grad():
        trained = module.head.full_scores(torch.arange(truth.tau.shape[0])).double().numpy()
    for name, s in (("by true effect", p1 - p0), ("random", rng.random(len(u))),
                    ("by p1 (outcome)", p1), (f"ULRMF, {epochs} epochs", trained[u, i])):
        true = ips_causal_ranking_from_rows(s, u, p1 - p0, ones, ones / 2, clip=1e-9)
        est = []
        for _ in range(draws):
            z = rng.random(len(u)) < prop
            w = rng.random(len(u))
            est.append(ips_causal_ranking_from_rows(s, u, np.where(z, w < p1, w < p0), z,
                                                    prop)["ips_cdcg@10"])
        realised = ips_causal_ranking_from_rows(s, u, v["label"].to_numpy(),
                                                v["exposure"].to_numpy(), prop)
        rows.append({"ranking": name, "true CDCG@10": true["ips_cdcg@10"] / 2,
                     "IPS estimate mean": np.mean(est), "IPS estimate sd": np.std(est, ddof=1),
                     "on the realised log": realised["ips_cdcg@10"]})
    return pd.DataFrame(rows).set_index("ranking")


def trajectory(head: str, epochs: int, seed: int = 0) -> pd.DataFrame:
    """Per epoch of one head (no early stopping): validation outcome NDCG@10, the logged
    validation estimate ``val/ips_cdcg@10``, and the truth it cannot see: CDCG@10 of the same
    ranking of the validation items and CP@10 / CDCG@10 of the full ranking. Diagnostic only:
    built from the library's parts (datamodule, module, a Lightning trainer) so that a
    callback can read the truth; no selection uses it."""
    import lightning as L
    import torch

    import causalrec as cr
    from causalrec.evaluation import causal_ranking_metrics
    from causalrec.evaluation.causal import ips_causal_ranking_from_rows
    from causalrec.models.build import build_datamodule, build_module

    cfg = cr.experiment.compose(["dataset=ml100k_uplift", f"head={head}", f"seed={seed}",
                                 "encoder.dim=32", "model.optimizer.lr=0.005",
                                 "model.causal_metrics=true"])
    L.seed_everything(seed, verbose=False)
    dm = build_datamodule(cfg, seed=seed)
    dm.setup("fit")
    module = build_module(cfg, dm.train_data)
    truth = truth_of(cfg)
    v = dm.split.valid.interactions
    u, i = v["user"].to_numpy(), v["item"].to_numpy()
    ones, rows = np.ones(len(u)), []

    class Truth(L.Callback):
        def on_validation_end(self, trainer, pl_module):  # after the module logged
            if trainer.sanity_checking:
                return
            with torch.no_grad():
                s = pl_module.head.full_scores(torch.as_tensor(np.unique(u)))
            s = s.double().numpy()[np.searchsorted(np.unique(u), u), i]
            cand = ips_causal_ranking_from_rows(s, u, truth.tau[u, i], ones, ones / 2, clip=1e-9)
            full = causal_ranking_metrics(pl_module.head, truth.tau, ks=(10,))
            m = trainer.callback_metrics
            rows.append({"epoch": trainer.current_epoch, "val NDCG@10": float(m["val/ndcg@10"]),
                         "val IPS CDCG@10": float(m["val/ips_cdcg@10"]),
                         "true CDCG@10 (val items)": cand["ips_cdcg@10"] / 2,
                         "true CP@10": full["cp@10"], "true CDCG@10": full["cdcg@10"]})

    trainer = L.Trainer(max_epochs=epochs, logger=False, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False,
                        callbacks=[Truth()])
    trainer.fit(module, datamodule=dm)
    return pd.DataFrame(rows).set_index("epoch")


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Per head: CP@10 / CDCG@10 mean and SE over seeds, and the paired gain over BPR (mean
    of the per-seed difference, and that mean in SE of the difference)."""
    base = df[df["head"] == "BPR (outcome)"].set_index("seed")
    out = []
    for name, g in df.groupby("head", sort=False):
        g = g.set_index("seed")
        row = {"head": name}
        for col, label in (("cp@10", "CP@10"), ("cdcg@10", "CDCG@10")):
            d = g[col] - base[col]
            se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
            row[label] = g[col].mean()
            row[f"{label} se"] = g[col].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else np.nan
            row[f"{label} gain vs BPR"] = d.mean()
            row[f"{label} gain in SE"] = d.mean() / se if se and se > 0 else float("nan")
        out.append(row)
    return pd.DataFrame(out).set_index("head")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--dataset", default="ml100k_uplift",
                    help="ml100k_uplift (Sato et al.'s design) or ml100k_uplift_single_z "
                         "(the first design; --trajectory/--noise use ml100k_uplift)")
    ap.add_argument("--monitor", default="auto",
                    help="model.monitor of every run (auto: each head's own)")
    ap.add_argument("--heads", default=",".join(DEFAULT_HEADS),
                    help="comma-separated subset of the heads (BPR, the baseline, is always run)")
    ap.add_argument("--set", nargs="*", default=[], metavar="HEAD:KEY=VALUE",
                    help="extra overrides of one head, e.g. ULRMF:head.alpha=auto")
    ap.add_argument("--grid", nargs="*", default=[], metavar="HEAD:KEY=V1,V2",
                    help="per seed, keep the value with the best validation monitor, e.g. "
                         "ULRMF:head.alpha=0.1,0.5,0.9")
    ap.add_argument("--trajectory", metavar="HEAD",
                    help="only print one head's per-epoch validation estimate and truth")
    ap.add_argument("--noise", action="store_true",
                    help="only print the validation estimate's noise (validation_noise)")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first..first+seeds-1")
    ap.add_argument("--save", metavar="CSV",
                    help="write the per-seed rows to CSV (BPR then runs only if in --heads)")
    ap.add_argument("--combine", nargs="+", metavar="CSV",
                    help="only summarise rows saved by --save runs (e.g. seeds or heads run "
                         "in parallel processes)")
    args = ap.parse_args(argv)
    if args.combine:
        df = pd.concat([pd.read_csv(p) for p in args.combine], ignore_index=True)
        df = df.drop_duplicates(["head", "seed"], keep="first")
        print(f"\n{', '.join(args.combine)}: {df['seed'].nunique()} seeds")
        print(summarise(df).round(5).to_string())
        return df
    if args.trajectory:
        torch_threads()
        print(f"{args.trajectory}, seed 0, every epoch (truth shown, never used)")
        print(trajectory(args.trajectory, args.epochs).round(4).to_string())
        return None
    if args.noise:
        torch_threads()
        print("IPS CDCG@10 of the seed-0 validation rows, log redrawn 200 times")
        print(validation_noise().round(4).to_string())
        return None
    want = {h.strip() for h in args.heads.split(",")} | (set() if args.save
                                                          else {"BPR (outcome)"})
    unknown = want - set(HEADS)
    if unknown:
        raise SystemExit(f"unknown --heads {sorted(unknown)}; known: {list(HEADS)}")
    heads = {k: v for k, v in HEADS.items() if k in want}
    grid = {}
    for g in args.grid:
        head_name, _, rest = g.partition(":")
        key, _, values = rest.partition("=")
        if head_name not in heads or not key or not values:
            raise SystemExit(f"--grid takes HEAD:KEY=V1,V2 with HEAD one of {list(heads)}; "
                             f"got {g!r}")
        grid[head_name] = (key, values.split(","))
    bad = [o for o in args.set if ":" not in o or o.split(":", 1)[0] not in heads]
    if bad:
        raise SystemExit(f"--set takes HEAD:KEY=VALUE with HEAD one of {list(heads)}; got {bad}")
    torch_threads()
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for name, ov in heads.items():
                ov = ov + [o.split(":", 1)[1] for o in args.set if o.split(":", 1)[0] == name]
                key, values = grid.get(name, (None, [None]))
                tried = []
                for value in values:  # Sato et al.: the hyperparameter chosen on validation
                    extra = [] if key is None else [f"{key}={value}"]
                    m = run_head(name, ov + extra, seed, args.epochs, Path(tmp), args.monitor,
                                 args.dataset)
                    tried.append({**m, "chosen": value})
                    print(f"seed {seed} {name:<16} {' '.join(extra):<18} CP@10 "
                          f"{m['cp@10']:+.4f}  CDCG@10 {m['cdcg@10']:+.4f}  validation "
                          f"{m['val']:+.4f}", flush=True)
                m = max(tried, key=lambda t: -np.inf if np.isnan(t["val"]) else t["val"])
                rows.append({"head": name, "seed": seed, **m})
            for name, m in reference_rankings(seed, args.dataset).items():
                rows.append({"head": name, "seed": seed, **m})
    df = pd.DataFrame(rows)
    if args.save:
        df.to_csv(args.save, index=False)
        print(f"rows written to {args.save}; {time.perf_counter() - t0:.0f} s")
        return df
    for name in grid:
        print(f"{name}: {grid[name][0]} chosen on validation per seed:",
              df[df["head"] == name]["chosen"].tolist())
    print(f"\n{args.dataset} protocol, {args.seeds} seeds, {args.epochs} max epochs, "
          f"model.monitor={args.monitor}", " ".join(args.set))
    print(summarise(df).round(5).to_string())
    print(f"total {time.perf_counter() - t0:.0f} s")
    return df


if __name__ == "__main__":
    main()
