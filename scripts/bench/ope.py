"""Off-policy estimators: causalrec against the real Open Bandit Pipeline (obp 0.5.7).

A synthetic log in the OBP layout - ``n_rounds`` rounds, ``n_actions`` actions, 3 slots,
per-round ``action_dist`` and ``q_hat`` arrays ``[n_rounds, n_actions, 3]`` - is written to
one ``.npz`` and evaluated by the seven estimators of the OBP benchmark (DM, IPW, SNIPW, DR,
SNDR, Switch-DR and DRos, the last two SLOPE-tuned over the 8-value OBP grid): by causalrec
in this process, and by obp's ``OffPolicyEvaluation.estimate_policy_values`` in obp's own
virtual environment (built on first use: Python 3.11, ``obp==0.5.7 --no-deps
--ignore-requires-python`` with obp's pins numpy 1.23.5, pandas 1.5.2, scikit-learn 1.1.3,
scipy 1.9.3, and the CPU torch 2.13 wheel standing in for torch 1.12, which has no Python
3.11 wheel; obp's estimators never call torch). Both read the same arrays from the file.

The pair is timed interleaved (causalrec, obp, causalrec, obp, ...); reported: the median
ratio of obp's time to causalrec's with its min-max over pairs. The seven point estimates
must agree to 1e-9 (relative) in every repetition, or the run prints the disagreement and
exits non-zero. Timed: the point estimates from arrays in memory (reward model excluded);
obp's time is measured inside its process around ``estimate_policy_values``.

The earlier in-repo "obp-structured" peer is gone: the real obp measures the same thing.

    python scripts/bench/ope.py [--quick] [--n-rounds N] [--n-actions A] [--repeats R]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (  # noqa: E402
    WORKER_LOOP,
    Worker,
    fail,
    fmt_ratio,
    interleaved,
    peer_venv,
    ratio_summary,
    summary,
    torch_requirement,
)

from causalrec.ope.estimators import OBP_LAMBDAS  # noqa: E402
from causalrec.ope.feedback import LoggedFeedback  # noqa: E402
from causalrec.ope.inputs import round_inputs  # noqa: E402
from causalrec.ope.off_policy_evaluation import OffPolicyEvaluation  # noqa: E402

OBP_VERSION = "0.5.7"
NAMES = ("dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os")

OBP_WORKER = r'''
import time
import numpy as np
import obp
from obp.ope import (OffPolicyEvaluation, DirectMethod, InverseProbabilityWeighting,
                     SelfNormalizedInverseProbabilityWeighting, DoublyRobust,
                     SelfNormalizedDoublyRobust, SwitchDoublyRobustTuning,
                     DoublyRobustWithShrinkageTuning)
STATE = {}

def handle(req):
    if req["cmd"] == "load":
        z = np.load(req["path"])
        STATE.update({k: z[k] for k in z.files})
        return {"obp": obp.__version__, "numpy": np.__version__}
    lambdas = [float(x) for x in req["lambdas"]]
    fb = {"n_rounds": int(STATE["action"].shape[0]), "n_actions": int(req["n_actions"]),
          "action": STATE["action"], "position": STATE["position"],
          "reward": STATE["reward"], "pscore": STATE["pscore"], "context": None}
    t0 = time.perf_counter()
    ope = OffPolicyEvaluation(bandit_feedback=fb, ope_estimators=[
        DirectMethod(), InverseProbabilityWeighting(),
        SelfNormalizedInverseProbabilityWeighting(), DoublyRobust(),
        SelfNormalizedDoublyRobust(),
        SwitchDoublyRobustTuning(lambdas=list(lambdas), tuning_method="slope"),
        DoublyRobustWithShrinkageTuning(lambdas=list(lambdas), tuning_method="slope")])
    est = ope.estimate_policy_values(action_dist=STATE["action_dist"],
                                     estimated_rewards_by_reg_model=STATE["q_hat"])
    return {"seconds": time.perf_counter() - t0,
            "estimates": {k: float(v) for k, v in est.items()}}
''' + WORKER_LOOP


def obp_python() -> Path:
    probe = "import obp, numpy; print(obp.__version__)"
    return peer_venv(f"obp-{OBP_VERSION}", probe, OBP_VERSION, installs=[
        [torch_requirement(), "numpy==1.23.5", "pandas==1.5.2", "scikit-learn==1.1.3",
         "scipy==1.9.3", "matplotlib<3.9", "seaborn", "tqdm", "pyyaml", "mypy-extensions"],
        ["--no-deps", "--ignore-requires-python", f"obp=={OBP_VERSION}"]])


def make_log(n: int, a: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    action = rng.integers(0, a, n)
    position = rng.integers(0, p, n)
    pscore = np.full(n, 1.0 / a)
    logits = rng.normal(size=(n, a, p))
    logits -= logits.max(axis=1, keepdims=True)
    ad = np.exp(2.0 * logits)
    ad /= ad.sum(axis=1, keepdims=True)
    q = 1.0 / (1.0 + np.exp(-(logits + 1.0)))
    reward = rng.binomial(1, q[np.arange(n), action, position]).astype(np.float64)
    return {"action": action, "position": position, "reward": reward, "pscore": pscore,
            "action_dist": ad, "q_hat": q}


def causalrec_point_estimates(arrays: dict, n_actions: int) -> tuple[float, dict]:
    t0 = time.perf_counter()
    fb = LoggedFeedback.build(arrays["action"], arrays["reward"], arrays["pscore"],
                              arrays["position"], n_actions=n_actions, n_positions=3)
    est = OffPolicyEvaluation().point_estimates(
        round_inputs(fb, arrays["action_dist"], arrays["q_hat"]))
    return time.perf_counter() - t0, est


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k rounds, 3 pairs")
    ap.add_argument("--n-rounds", type=int, default=1_000_000)
    ap.add_argument("--n-actions", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5, help="interleaved pairs")
    args = ap.parse_args(argv)
    n = 100_000 if args.quick else args.n_rounds
    repeats = 3 if args.quick else args.repeats
    py = obp_python()
    arrays = make_log(n, args.n_actions, 3)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.npz"
        np.savez(path, **arrays)
        with Worker(py, OBP_WORKER, Path(tmp), env={"OMP_NUM_THREADS": "1"}) as obp:
            versions = obp.ask(cmd="load", path=str(path))
            print(f"peer: obp {versions['obp']} (numpy {versions['numpy']}, own venv); "
                  f"causalrec numpy {np.__version__}")
            print(f"log: {n:,} rounds, {args.n_actions} actions, 3 slots; action_dist and "
                  f"q_hat [{n:,}, {args.n_actions}, 3] float64 from one .npz; {repeats} "
                  "interleaved pairs")
            results = {}

            def ours():
                t, results["ours"] = causalrec_point_estimates(arrays, args.n_actions)
                return t

            def peer():
                r = obp.ask(cmd="run", lambdas=[float(x) for x in OBP_LAMBDAS],
                            n_actions=args.n_actions)
                results["peer"] = r["estimates"]
                a, b = results["ours"], results["peer"]
                for k in NAMES:
                    if not np.isclose(a[k], b[k], rtol=1e-9, atol=1e-12):
                        fail(f"{k}: causalrec {a[k]!r} != obp {b[k]!r}")
                return r["seconds"]

            t_ours, t_peer = interleaved(ours, peer, repeats)
    r = ratio_summary(t_ours, t_peer)
    print(f"{'task':<34}{'causalrec s':>12}{'obp s':>9}  obp/causalrec (median, min-max)")
    print(f"{'7 estimators, point estimates':<34}{r['ours_s']:>12.3f}{r['peer_s']:>9.3f}  "
          f"{fmt_ratio(r)}")
    target = 20.0
    print(f"target: >= {target:.0f}x obp on point estimates: "
          f"{'met' if r['median'] >= target else 'NOT met'} at the median ({r['median']:.1f}x)")
    summary("ope", f"obp {versions['obp']}", "obp time / causalrec time (7 point estimates, "
            f"{n:,} rounds)", r, f">= {target:.0f}x: {'met' if r['median'] >= target else 'NOT met'}")
    print("estimates agree to 1e-9 in every pair: " + ", ".join(
        f"{k} {results['ours'][k]:.5f}" for k in NAMES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
