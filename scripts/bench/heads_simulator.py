"""Debiasing and uplift heads on simulator data with a randomized-exposure test set.

1. Missing-not-at-random learning (Schnabel et al. 2016): the observed data are the logged
   rows the policy *exposed* (O = exposure, label = click), exposure confounded by
   popularity and intent; the target is the click probability under exposure for
   uniformly random (user, item) pairs. Heads naive / IPS / SNIPS / DR-JL train on the
   observed rows (IPS-family with the simulator's true logged propensities), pick their
   epoch on half of the randomized exposed rows and are scored on the other half: MSE of
   the predicted click probability against the click, against the true mean ``mu1``, and
   AUC. Over seeds: mean, standard error, and the margin of each head over naive in SEs of
   the paired differences.
2. Uplift: T-learner vs TARNet vs DragonNet on every logged row (treatment = exposure,
   outcome = click); PEHE against the true ``mu1 - mu0`` on the randomized users' rows.

    .venv/bin/python scripts/bench/heads_simulator.py            # 5 seeds
    .venv/bin/python scripts/bench/heads_simulator.py --quick    # 1 seed, small world
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch


def _data(df, n_users, n_items, name):
    from causalrec.data import InteractionData

    return InteractionData(df.reset_index(drop=True), n_users, n_items, name=name)


def _batches(df, cols, batch_size, rng):
    perm = rng.permutation(len(df))
    arrays = {c: torch.from_numpy(df[c].to_numpy()[perm].astype(
        np.int64 if c in ("user", "item") else np.float32)) for c in cols}
    for s in range(0, len(df), batch_size):
        yield {c: a[s:s + batch_size] for c, a in arrays.items()}


def fit_head(head, train_df, cols, valid_fn, epochs, lr, batch_size, seed, weight_decay=0.0):
    """Adam over mini-batches; keep the parameters of the epoch with the best validation."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(head.parameters(), lr=lr, weight_decay=weight_decay)
    best, best_state = float("inf"), None
    for _ in range(epochs):
        head.train()
        for b in _batches(train_df, cols, batch_size, rng):
            opt.zero_grad()
            loss = head.loss(b, head(b))
            loss.backward()
            opt.step()
        head.eval()
        with torch.no_grad():
            v = valid_fn(head)
        if v < best:
            best, best_state = v, {k: t.clone() for k, t in head.state_dict().items()}
    head.load_state_dict(best_state)
    return head


def _tensor(df, c):
    return torch.tensor(df[c].to_numpy())


def mnar_run(seed: int, sizes: dict, epochs: int, lr: float = 0.01, loss: str = "mse",
             l2: float = 0.1) -> dict:
    from causalrec.encoders.id import IDEncoder
    from causalrec.evaluation.value import auc
    from causalrec.heads import DRJLHead, IPSHead, PointwiseHead, SNIPSHead
    from causalrec.heads.pointwise_loss import prediction
    from causalrec.sim import simulate

    res = simulate("popularity_bias", seed=seed, randomized_users=0.3, **sizes)
    logs, rand = res.data.interactions, res.randomized.interactions
    nu, ni = res.data.n_users, res.data.n_items
    obs = logs[logs["exposure"] > 0]
    test_pool = rand[rand["exposure"] > 0]
    half = np.random.default_rng(seed).random(len(test_pool)) < 0.5
    valid, test = test_pool[half], test_pool[~half]
    train = _data(obs, nu, ni, "observed")

    def predict(head, df):
        with torch.no_grad():
            s = head.score(_tensor(df, "user"), _tensor(df, "item"))
            return prediction(s, loss).numpy()

    def valid_mse(head):
        return float(np.mean((predict(head, valid) - valid["label"].to_numpy()) ** 2))

    out = {}
    specs = {"naive": (PointwiseHead, {}), "ips": (IPSHead, {"clip": 0.05}),
             "snips": (SNIPSHead, {"clip": 0.05}),
             "dr_jl": (DRJLHead, {"clip": 0.05, "imputation_l2": l2})}
    for name, (cls, kw) in specs.items():
        torch.manual_seed(seed)
        enc = IDEncoder(train, dim=16, init_std=0.1)
        head = cls(enc, data=train, loss_type=loss, weight_decay=l2, **kw)
        fit_head(head, obs, ["user", "item", "label", "propensity"], valid_mse, epochs,
                 lr=lr, batch_size=1024, seed=seed)
        p = predict(head, test)
        out[name] = {"mse": float(np.mean((p - test["label"].to_numpy()) ** 2)),
                     "mse_mu1": float(np.mean((p - test["true_mu1"].to_numpy()) ** 2)),
                     "auc": auc(p, test["label"].to_numpy())}
    return out


def uplift_run(seed: int, sizes: dict, epochs: int) -> dict:
    from causalrec.encoders.id import IDEncoder
    from causalrec.evaluation.causal import pehe
    from causalrec.heads import TARNetHead, TLearnerHead
    from causalrec.sim import simulate

    res = simulate("popularity_bias", seed=seed, randomized_users=0.3, **sizes)
    logs, rand = res.data.interactions, res.randomized.interactions
    nu, ni = res.data.n_users, res.data.n_items
    train = _data(logs, nu, ni, "logs")
    half = np.random.default_rng(seed).random(len(rand)) < 0.5
    valid, test = rand[half], rand[~half]

    def tau_hat(head, df):
        with torch.no_grad():
            return head.effect(_tensor(df, "user"), _tensor(df, "item")).numpy()

    def valid_pehe(head):
        return pehe(tau_hat(head, valid), valid["true_mu1"] - valid["true_mu0"])

    out = {}
    specs = {"t_learner": (TLearnerHead, {}), "tarnet": (TARNetHead, {"propensity_weight": 0}),
             "dragonnet": (TARNetHead, {"propensity_weight": 1.0})}
    for name, (cls, kw) in specs.items():
        torch.manual_seed(seed)
        enc = IDEncoder(train, dim=16, init_std=0.1)
        head = cls(enc, data=train, hidden=[32, 16], **kw)
        fit_head(head, logs, ["user", "item", "label", "exposure"], valid_pehe, epochs,
                 lr=0.005, batch_size=1024, seed=seed, weight_decay=1e-5)
        out[name] = {"pehe": pehe(tau_hat(head, test), test["true_mu1"] - test["true_mu0"])}
    return out


def _summary(runs: list[dict], metric: str, base: str, lower_better: bool) -> pd.DataFrame:
    names = list(runs[0])
    rows = []
    for n in names:
        v = np.array([r[n][metric] for r in runs])
        d = np.array([r[base][metric] - r[n][metric] for r in runs])
        if not lower_better:
            d = -d
        se_d = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        rows.append({"head": n, metric: v.mean(),
                     "se": v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan"),
                     f"gain_vs_{base}": d.mean(),
                     "gain_in_SE": d.mean() / se_d if se_d and se_d > 0 else float("nan")})
    return pd.DataFrame(rows).set_index("head")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--users", type=int, default=1500)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.03)
    ap.add_argument("--loss", choices=["mse", "bce"], default="bce")
    ap.add_argument("--l2", type=float, default=0.1, help="head weight_decay (batch L2)")
    ap.add_argument("--skip-uplift", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.seeds, args.epochs, args.users, args.items = 1, 3, 400, 100
    sizes = {"n_users": args.users, "n_items": args.items, "per_user": 30}
    t0 = time.perf_counter()
    mnar = [mnar_run(s, sizes, args.epochs, args.lr, args.loss, args.l2)
            for s in range(args.seeds)]
    up = [] if args.skip_uplift else [uplift_run(s, sizes, args.epochs)
                                      for s in range(args.seeds)]
    pd.set_option("display.width", 120)
    print(f"simulator popularity_bias, {args.users} users x {args.items} items, "
          f"{args.seeds} seeds, test = randomized exposed rows; loss {args.loss}, "
          f"L2 {args.l2}, lr {args.lr}, {args.epochs} epochs (best on validation)")
    for metric, lower in (("mse", True), ("mse_mu1", True), ("auc", False)):
        print(f"\n{metric} (gain_in_SE: mean paired gain over naive / its standard error)")
        print(_summary(mnar, metric, "naive", lower).round(5).to_string())
    if up:
        print("\nuplift PEHE vs true mu1 - mu0 (randomized users)")
        print(_summary(up, "pehe", "t_learner", True).round(5).to_string())
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return mnar, up


if __name__ == "__main__":
    main()
