"""Benchmark differentially private training on MovieLens-100K (RecBole protocol: random
8:1:1 per user, full ranking; BPR, dim 64, as experiment=quickstart).

1. Utility: test NDCG@10 at ε in {1, 2, 4, 8} (user-level DP, δ = 1/users, RDP accountant)
   for three designs, beside the non-private model (ε = ∞), over seeds:
   * ``all``: DP-SGD on every parameter of ID matrix factorisation (user and item tables);
   * ``public_items``: items from public information (frozen MiniLM embeddings of the item
     text) through a projection learned with DP-SGD; user embeddings private, never
     released (joint DP);
   * ``joint``: ID matrix factorisation with DP-SGD on the item table only and user
     embeddings that never leave their user (joint DP; Jain, Thakkar and Thakurta 2018,
     Chien et al. 2021 "Private Alternating Least Squares").
2. Cost: seconds per training epoch, DP-SGD beside the non-private epoch, measured in the
   same process on the same data (a DP epoch = round(1/q) Poisson steps, the same number of
   rows in expectation).
3. Audit: membership inference on users (half members, half held out) against the
   non-private model and the ε = 1 model (design ``all``, the whole model released): loss
   threshold and offline LiRA with shadow models, beside the advantage bound of (ε, δ)-DP.

    python scripts/bench/privacy.py            # 3 seeds, all ε, 3 designs (long)
    python scripts/bench/privacy.py --quick    # 1 seed, ε in {1, 8}, few epochs (smoke)
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

BASE = ["experiment=quickstart", "logger=none", "trainer.enable_progress_bar=false",
        "model.diagnostics=false", "threads=1"]
ENCODERS = {"id": ["encoder=id"], "minilm": ["encoder=minilm", "encoder.users=id"]}
DESIGNS = {"all": ("id", ["privacy.user_params=noised"]),
           "public_items": ("minilm", ["privacy.user_params=local"]),
           "joint": ("id", ["privacy.user_params=local"])}


def _dp(eps: float, design: str, q: float, lr: float) -> list[str]:
    enc, extra = DESIGNS[design]
    return [*ENCODERS[enc], "privacy=dp", f"privacy.epsilon={eps}", f"privacy.design={design}",
            f"privacy.sample_rate={q}", f"model.optimizer.lr={lr}", *extra]


def utility(seeds, eps_list, designs, epochs, q, lr, out_dir,
            baseline_epochs: int | None = None) -> list[dict]:
    """Test NDCG@10 of every (design, ε) and of the non-private models, per seed; the
    non-private models train for ``baseline_epochs`` (default: the same ``epochs``)."""
    from causalrec.experiment.api import run

    rows = []
    base_epochs = [f"trainer.max_epochs={baseline_epochs or epochs}"]
    dp_epochs = [f"trainer.max_epochs={epochs}"]
    jobs = [(name, math.inf, [*base_epochs, *ENCODERS[name]])
            for name in sorted({DESIGNS[d][0] for d in designs})]
    jobs += [(d, e, [*dp_epochs, *_dp(e, d, q, lr)]) for d in designs for e in eps_list]
    for seed in seeds:
        for name, eps, overrides in jobs:
            t = time.perf_counter()
            m = run([*BASE, *overrides, f"seed={seed}"],
                    output_dir=Path(out_dir) / f"{name}-{eps}-{seed}")
            rows.append({"design": name if eps < math.inf else f"non-private ({name})",
                         "epsilon": eps, "seed": seed, "ndcg@10": m["test/ndcg@10"],
                         "epsilon_spent": m.get("privacy/epsilon", math.inf),
                         "epochs": m["epochs"], "seconds": time.perf_counter() - t})
            print(f"  seed {seed} {rows[-1]['design']:<22} ε={eps:<4} NDCG@10="
                  f"{m['test/ndcg@10']:.4f} (spent ε={rows[-1]['epsilon_spent']:.3f}, "
                  f"{rows[-1]['seconds']:.0f} s)", flush=True)
    return rows


class _EpochTimer:
    def __new__(cls):
        import lightning as L

        class Timer(L.Callback):
            def __init__(self):
                self.times = []

            def on_train_epoch_start(self, trainer, pl_module):
                self._t = time.perf_counter()

            def on_train_epoch_end(self, trainer, pl_module):
                self.times.append(time.perf_counter() - self._t)

        return Timer()


def epoch_costs(data, designs, q, lr, epochs=3) -> dict[str, float]:
    """Median seconds per training epoch (after the first) for each setting, one process."""
    from causalrec.experiment.api import compose
    from causalrec.privacy.fit import fit_on

    settings = {"non-private (id)": [*BASE, *ENCODERS["id"]]}
    if "public_items" in designs:
        settings["non-private (minilm)"] = [*BASE, *ENCODERS["minilm"]]
    settings.update({f"DP {d}": [*BASE, *_dp(8, d, q, lr)] for d in designs})
    out = {}
    for name, overrides in settings.items():
        timer = _EpochTimer()
        fit_on(compose(overrides), data, seed=0, max_epochs=epochs, callbacks=[timer])
        out[name] = float(np.median(timer.times[1:]))
    return out


def _step_times(module, clipper, batch, repeats) -> list[float]:
    """Seconds per step: [the clipper, one backward per unit]."""
    import torch

    head = module.head
    noised = [p for n, p in module.named_parameters()
              if not any(n.startswith(f"{loc}.") for loc in clipper.local)]

    def ours():
        module.zero_grad()
        clipper.begin(batch["group"])
        head.loss(batch, head(batch)).backward()
        clipper.finish(scale=float(len(batch["group"])))

    def peer():
        total = [torch.zeros_like(p) for p in noised]
        for g in batch["group"].unique().tolist():
            rows = batch["group"] == g
            sub = {k: v[rows] for k, v in batch.items()}
            loss = head.loss(sub, head(sub)) * int(rows.sum())
            grads = torch.autograd.grad(loss, noised, allow_unused=True)
            grads = [torch.zeros_like(p) if x is None else x for x, p in zip(grads, noised)]
            norm = torch.sqrt(sum((x ** 2).sum() for x in grads))
            f = min(1.0, 1.0 / (float(norm) + 1e-6))
            total = [t + f * x for t, x in zip(total, grads)]

    times = []
    for fn in (ours, peer):
        fn()
        t = time.perf_counter()
        for _ in range(repeats):
            fn()
        times.append((time.perf_counter() - t) / repeats)
    return times


def clip_cost(data, designs, q, lr, repeats=3) -> dict[str, tuple[float, float]]:
    """Seconds per DP step (forward, backward, per-user clipping) of the clipper beside the
    peer: one autograd backward per sampled user giving full per-user gradients (what
    a hand-written DP-SGD with torch.func/loops does), on the same Poisson batch."""

    from causalrec.experiment.api import compose
    from causalrec.models.build import build_module
    from causalrec.privacy.engine import build_private_training
    from causalrec.privacy.fit import datamodule_for

    out = {}
    for design in designs:
        cfg = compose([*BASE, *_dp(8, design, q, lr)])
        dm = datamodule_for(cfg, data, 0)
        dm.setup("fit")
        module = build_module(cfg, dm.train_data).train()
        private = build_private_training(cfg.privacy, dm, module, max_epochs=1)
        batch = next(iter(private.datamodule.train_dataloader()))
        clipper = private.callback.clipper
        times = _step_times(module, clipper, batch, repeats)
        clipper.remove()
        out[design] = (times[0], times[1])
        print(f"  {design:<14} {len(batch['group'].unique())} users, {len(batch['group'])} rows: "
              f"clipper {times[0]:.3f} s/step, per-user backward {times[1]:.3f} s/step, "
              f"ratio {times[1] / times[0]:.1f}x", flush=True)
    return out


def audit(data, epochs, q, lr, shadows, seed=0) -> list[dict]:
    """Membership inference on users against the non-private and the ε = 1 model."""
    from causalrec.experiment.api import compose
    from causalrec.privacy.audit import audit_row, lira_offline, loss_scores, membership_split
    from causalrec.privacy.fit import fit_on

    members, non_members, member_data = membership_split(data, 0.5, seed)
    users = np.r_[members, non_members]
    rows = []
    for label, overrides in [("non-private", ENCODERS["id"]),
                             ("DP ε=1 (all)", _dp(1, "all", q, lr))]:
        cfg = compose([*BASE, *overrides])
        target, private = fit_on(cfg, member_data, seed=seed, max_epochs=epochs)
        delta = private.callback.delta if private else 0.0
        spent = private.callback.epsilon if private else math.inf
        score = loss_scores(target, data, users, seed=seed)
        n = len(members)
        rows.append({"model": label, **audit_row("loss threshold", score[:n], score[n:],
                                                  spent, delta)})
        shadow_scores, shadow_in = [], []
        for k in range(shadows):
            _, _, shadow_data = membership_split(data, 0.5, seed=1000 + k)
            inside = np.isin(users, np.unique(shadow_data.interactions["user"]))
            model, _ = fit_on(cfg, shadow_data, seed=1000 + k, max_epochs=epochs)
            shadow_scores.append(loss_scores(model, data, users, seed=seed))
            shadow_in.append(inside)
        stat = lira_offline(score, np.array(shadow_scores), np.array(shadow_in))
        rows.append({"model": label, **audit_row(f"offline LiRA ({shadows} shadows)",
                                                  stat[:n], stat[n:], spent, delta)})
        for r in rows[-2:]:
            print(f"  {r['model']:<14} {r['attack']:<24} AUC={r['auc']:.3f} advantage="
                  f"{r['advantage']:.3f} bound={r['bound']:.3f}", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10, help="DP training epochs")
    ap.add_argument("--baseline-epochs", type=int, default=40,
                    help="non-private epochs (quickstart: 40, with early stopping)")
    ap.add_argument("--sample-rate", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=0.02, help="DP learning rate (Adam)")
    ap.add_argument("--shadows", type=int, default=4)
    ap.add_argument("--designs", default="all,public_items,joint")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    ap.add_argument("--sections", default="costs,utility,audit")
    args = ap.parse_args(argv)
    import torch
    from hydra.utils import instantiate

    from causalrec.experiment.api import compose

    torch.set_num_threads(1)
    designs = args.designs.split(",")
    seeds = [0] if args.quick else list(range(args.seeds))
    eps_list = [1.0, 8.0] if args.quick else [1.0, 2.0, 4.0, 8.0]
    epochs = 2 if args.quick else args.epochs
    data = instantiate(compose(BASE).dataset.source)
    print(f"ml-100k: {data.n_users} users, {data.n_items} items, {len(data)} ratings; DP: "
          f"{epochs} epochs, q={args.sample_rate}, lr={args.lr}; non-private: quickstart "
          f"(lr 0.002, up to {args.baseline_epochs} epochs, early stopping)", flush=True)

    sections = set(args.sections.split(","))
    figures = {}
    if "costs" in sections:
        print("\n## per-user clipping: one DP step, the clipper beside per-user backward passes",
              flush=True)
        figures["clip"] = clip_cost(data, designs, args.sample_rate, args.lr)
        print("\n## seconds per training epoch (same process, same data)", flush=True)
        costs = figures["costs"] = epoch_costs(data, designs, args.sample_rate, args.lr)
        for name, s in costs.items():
            ref = costs["non-private (minilm)" if "public_items" in name else "non-private (id)"]
            print(f"  {name:<22} {s:7.3f} s/epoch   ratio to non-private {s / ref:5.2f}x")
    if "utility" in sections:
        figures["utility"] = _utility_section(args, seeds, eps_list, designs, epochs)
    if "audit" in sections:
        print("\n## membership inference on users (members: half of the users)", flush=True)
        figures["audit"] = audit(data, epochs, args.sample_rate, args.lr,
                                 2 if args.quick else args.shadows)
    if args.out:
        from causalrec import atomic

        def finite(v):  # JSON has no infinity: the non-private ε is written as null
            if isinstance(v, dict):
                return {k: finite(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [finite(x) for x in v]
            return None if isinstance(v, float) and math.isinf(v) else v

        atomic.write_json(args.out, finite(figures))
    return 0


def _utility_section(args, seeds, eps_list, designs, epochs) -> list[dict]:
    print("\n## test NDCG@10 vs ε (user-level DP, δ = 1/users)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = utility(seeds, eps_list, designs, epochs, args.sample_rate, args.lr, tmp,
                       baseline_epochs=2 if args.quick else args.baseline_epochs)
    import pandas as pd

    df = pd.DataFrame(rows)
    table = df.groupby(["design", "epsilon"])["ndcg@10"].agg(["mean", "std", "count"])
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    ref = df[df.design == "non-private (id)"]["ndcg@10"].mean()
    at8 = df[df.epsilon == max(eps_list)].groupby("design")["ndcg@10"].mean()
    best = at8.idxmax()
    print(f"\nbest design at ε={max(eps_list):g}: {best}, NDCG@10 {at8[best]:.4f} = "
          f"{at8[best] / ref:.1%} of non-private ID-MF {ref:.4f}")
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
