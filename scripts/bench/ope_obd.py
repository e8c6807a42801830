"""The Open Bandit Dataset off-policy evaluation benchmark, beside obp's published figures.

Protocol of zr-obp ``examples/obd/evaluate_off_policy_estimators.py`` (Saito et al.,
NeurIPS Datasets and Benchmarks 2021): evaluate OBD's Bernoulli-TS policy (slot marginals
from 1M Monte Carlo rankings under ZOZOTOWN's production prior) from the uniform-random
policy's log, campaign ``all``; the truth is the mean click of the BTS log (on-policy). For
each of 30 bootstrap resamples of the random log (``RandomState(b).choice``), a
logistic-regression reward model (C=100, one per slot, features = one-hot user features +
label-encoded item features, 3-fold cross-fitting) is refitted and the seven estimators'
relative errors ``|V_hat - V| / V`` are recorded; mean and std over resamples are printed
beside obp's published table (zr-obp examples/obd/README.md).

Second table: the same seven estimators with causalrec's *pooled* reward model
(``RewardModel(per_position=False)``: one model over all slots with the slot one-hot as
features; same logistic regression, C=100, features and folds - the only change). The
random log holds 38 clicks in 10,000 rounds, so OBP's three per-slot models each fit ~13
clicks with a separate coefficient for every item feature; their cross-fitted
predictions are noise, which inflates DM's variance and weakens DR's control variate.
Pooling the slots gives every item coefficient three times the clicks and lets the slot
shift the click rate only through one intercept per slot.

    python scripts/bench/ope_obd.py [--quick] [--n-resamples 30] [--reverse]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def run(behavior: str, evaluation: str, campaign: str, n_resamples: int, n_sim: int,
        published: pd.DataFrame | None, plot: str | None = None) -> pd.DataFrame:
    from sklearn.linear_model import LogisticRegression

    from causalrec.ope import (
        RewardModel,
        evaluate_estimators,
        load_obd_feedback,
        obd_on_policy_value,
        obd_policy_action_dist,
        summarize_relative_errors,
    )

    fb = load_obd_feedback(policy=behavior, campaign=campaign, quiet=True)
    truth = obd_on_policy_value(evaluation, campaign, quiet=True)
    t0 = time.perf_counter()
    ad = obd_policy_action_dist(evaluation, campaign, n_sim=n_sim, seed=12345)
    t_dist = time.perf_counter() - t0
    print(f"\n== {evaluation} evaluated from {behavior} logs, campaign {campaign}: "
          f"{fb.n_rounds} rounds, {int(fb.reward.sum())} clicks; on-policy truth "
          f"{truth:.5f}; {evaluation} slot marginals from {n_sim:,} simulations "
          f"({t_dist:.1f} s)")
    models = {
        "obp (per-slot LR, C=100)": RewardModel(
            LogisticRegression(C=100, max_iter=10000, random_state=12345), per_position=True,
            n_folds=3, seed=12345),
        "causalrec pooled (one LR over slots, C=100)": RewardModel(
            LogisticRegression(C=100, max_iter=10000, random_state=12345), per_position=False,
            n_folds=3, seed=12345),
    }
    tables, errors = {}, {}
    for label, rm in models.items():
        t0 = time.perf_counter()
        err = evaluate_estimators(fb, ad, truth, reward_model=rm, n_resamples=n_resamples,
                                  seed=0)
        s = summarize_relative_errors(err, published)
        tables[label], errors[label] = s, err
        print(f"\n-- reward model: {label}; {n_resamples} resamples in "
              f"{time.perf_counter() - t0:.0f} s")
        print(s.round(4).to_string())
    # reference: ignore the evaluation policy and report the log's own mean reward
    n = fb.n_rounds
    naive = [abs(fb.reward[np.random.RandomState(b).choice(np.arange(n), size=n)].mean()
                 - truth) / truth for b in range(n_resamples)]
    print(f"\nreference (no OPE at all): the {behavior} log's mean reward as the estimate, "
          f"relative error mean {np.mean(naive):.4f} std {np.std(naive, ddof=1):.4f}; the "
          f"true lift of {evaluation} over {behavior} is {truth / fb.reward.mean() - 1:+.1%}")
    first, second = tables.values()
    cmp = pd.DataFrame({"relerr_obp_model": first["mean"], "relerr_pooled_model":
                        second["mean"]}).sort_values("relerr_pooled_model")
    best_pub = None if published is None else float(published["mean"].min())
    print("\n-- mean relative error by reward model (lower is better)")
    print(cmp.round(4).to_string())
    best = cmp["relerr_pooled_model"].idxmin()
    line = f"best with the pooled model: {best} {cmp.loc[best, 'relerr_pooled_model']:.4f}"
    if best_pub is not None:
        line += f" vs the best published (dm) {best_pub:.4f}"
    print(line)
    # paired over the same resamples: pooled-model estimators vs DM with OBP's model
    err_obp, err_pool = errors.values()
    for name in dict.fromkeys(("dm", "dr-os", best)):
        d = (err_pool[name] - err_obp["dm"]).to_numpy()
        print(f"paired: {name} (pooled) - dm (obp model) = {d.mean():+.4f} +- "
              f"{d.std(ddof=1) / np.sqrt(d.size):.4f} (SE); lower on {(d < 0).sum()} of "
              f"{d.size} resamples")
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from causalrec.ope import plot_relative_errors

        fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), sharey=True)
        for ax, (label, err) in zip(axes, errors.items()):
            plot_relative_errors(err, published, ax=ax, title=f"{evaluation} from {behavior} "
                                 f"logs ({campaign}): {label}")
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        print(f"plot: {plot}")
    return cmp


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 resamples, 100k simulations")
    ap.add_argument("--n-resamples", type=int, default=30)
    ap.add_argument("--n-sim", type=int, default=1_000_000)
    ap.add_argument("--campaign", default="all")
    ap.add_argument("--reverse", action="store_true",
                    help="also evaluate random from the BTS logs (no published figures)")
    ap.add_argument("--plot", default=None, help="save a PNG of the relative errors here")
    args = ap.parse_args(argv)
    from causalrec.ope.evaluation import OBP_PUBLISHED_BTS_FROM_RANDOM_ALL

    n_res = 3 if args.quick else args.n_resamples
    n_sim = 100_000 if args.quick else args.n_sim
    published = OBP_PUBLISHED_BTS_FROM_RANDOM_ALL if args.campaign == "all" else None
    run("random", "bts", args.campaign, n_res, n_sim, published, args.plot)
    if args.reverse:
        run("bts", "random", args.campaign, n_res, n_sim, None)


if __name__ == "__main__":
    main()
