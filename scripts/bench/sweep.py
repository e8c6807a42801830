"""Sweep overhead and local parallelism: Hydra's sequential launcher vs joblib.

Runs the same multirun (N seeds of the generated dataset) with Hydra's basic (sequential)
launcher and with the joblib launcher (2 workers), interleaved (sequential, joblib,
sequential, joblib, ...), and prints:
- the overhead of a sequential multirun beyond training, per run: the extra wall time of an
  N-run sweep over a 1-run sweep, minus the extra training time the N-1 runs recorded,
  divided by N-1 (process start-up cancels out)   (target < 1 s)
- the joblib speed-up over the sequential sweep: median over pairs with min-max
  (target >= 1.5x for 6 runs on 2 cores).
Both launchers must produce the same test metrics for every seed (to 1e-6: one seed, one
result), or the run prints the difference and exits non-zero.

Workloads: ``ml100k`` (default) is the sweep a researcher runs — BPR on MovieLens-100K with
the tuned settings of ``train_ml100k.DEFAULT_PROTOCOL`` (``--epochs 60`` with early
stopping: that protocol exactly, about 5 s a run, stopping after ~32 epochs); ``generated`` is the embedded default dataset, where a run
trains for about a second and each joblib worker's one-off start-up (importing torch and
Lightning, several CPU seconds) weighs as much as the runs themselves.

    python scripts/bench/sweep.py [--workload ml100k] [--runs 6] [--epochs 60] [--pairs 2]
    python scripts/bench/sweep.py --workload generated --epochs 3
    python scripts/bench/sweep.py --quick          # generated, 2 runs x 1 epoch
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import fail, fmt_ratio, ratio_summary, summary  # noqa: E402


def _workload(name: str) -> list[str]:
    """Hydra overrides of a workload (the max_epochs override is added per sweep)."""
    if name == "generated":
        return []
    from train_ml100k import DEFAULT_PROTOCOL

    return [o for o in DEFAULT_PROTOCOL["bpr"] if not o.startswith("trainer.max_epochs=")]


def _sweep(out: Path, launcher: list[str], seeds: str, epochs: int,
           workload: list[str]) -> tuple[float, dict]:
    """Wall time of one multirun and ``{seed: record}`` of its runs."""
    exe = Path(sys.executable).with_name("causalrec-train")
    env = {**os.environ, "CAUSALREC_OUTPUT": str(out), "WANDB_MODE": "disabled"}
    t0 = time.perf_counter()
    subprocess.run([str(exe), "-m", *launcher, *workload, f"seed={seeds}", "logger=none",
                    f"trainer.max_epochs={epochs}", "trainer.enable_progress_bar=false"],
                   env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    runs = {}
    for path in out.rglob("metrics.json"):
        rec = json.loads(path.read_text())
        runs[int(rec["seed"])] = rec
    return wall, runs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=["ml100k", "generated"], default="ml100k")
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--pairs", type=int, default=2, help="interleaved (sequential, joblib) pairs")
    ap.add_argument("--quick", action="store_true", help="2 runs of 1 epoch, 2 pairs")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.epochs, args.pairs, args.workload = 2, 1, 2, "generated"
    workload = _workload(args.workload)
    seeds = ",".join(str(i) for i in range(args.runs))
    seq_walls, par_walls, seq_sums = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        one_wall, one_runs = _sweep(Path(tmp) / "one", [], "0", args.epochs, workload)
        for i in range(args.pairs):
            seq_wall, seq_runs = _sweep(Path(tmp) / f"seq{i}", [], seeds, args.epochs,
                                        workload)
            par_wall, par_runs = _sweep(Path(tmp) / f"par{i}", ["hydra/launcher=joblib",
                                                                "hydra.launcher.n_jobs=2"],
                                        seeds, args.epochs, workload)
            if sorted(seq_runs) != sorted(par_runs) or len(seq_runs) != args.runs:
                fail(f"sequential ran seeds {sorted(seq_runs)}, joblib {sorted(par_runs)}")
            for seed, rec in seq_runs.items():
                a = {k: v for k, v in rec["metrics"].items() if k.startswith("test/")}
                b = {k: v for k, v in par_runs[seed]["metrics"].items() if k.startswith("test/")}
                # equal up to float reduction order (a worker may run other torch threads)
                if a.keys() != b.keys() or any(abs(a[k] - b[k]) > 1e-6 * max(1.0, abs(a[k]))
                                               for k in a):
                    fail(f"seed {seed}: sequential {a} != joblib {b}")
            seq_walls.append(seq_wall)
            par_walls.append(par_wall)
            seq_sums.append(sum(r["wall_time_s"] for r in seq_runs.values()))
    startup = one_wall - one_runs[0]["wall_time_s"]
    seq_wall, run_sum = seq_walls[0], seq_sums[0]
    overhead = ((seq_wall - one_wall) - (run_sum - one_runs[0]["wall_time_s"])) / (args.runs - 1)
    r = ratio_summary(par_walls, seq_walls)  # sequential / joblib: the speed-up
    print(f"# sweep overhead and joblib speed-up ({args.runs} runs x {args.epochs} epochs, "
          f"{args.workload} workload, {os.cpu_count()} cores, {args.pairs} interleaved pairs)")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| 1-run sweep: wall time minus the run's own time (start-up) | {startup:.2f} s | |")
    print(f"| sequential sweep wall time (pair 1) | {seq_wall:.2f} s | |")
    print(f"| sum of the runs' own wall times (pair 1) | {run_sum:.2f} s | |")
    print(f"| overhead per run beyond training | {overhead:.3f} s | < 1 s |")
    print(f"| sequential / joblib wall times, per pair | "
          f"{', '.join(f'{s:.1f}/{p:.1f} s' for s, p in zip(seq_walls, par_walls))} | |")
    print(f"| joblib (2 workers) speed-up over sequential | {fmt_ratio(r)} | >= 1.5x "
          f"({'met' if r['median'] >= 1.5 else 'NOT met'}) |")
    print("| test metrics per seed, sequential vs joblib | equal (1e-6) | equal |")
    import joblib

    summary("sweep", f"Hydra basic launcher vs joblib {joblib.__version__} (2 workers)",
            f"sequential wall time / joblib wall time ({args.runs} runs x {args.epochs} epochs, "
            f"{args.workload})",
            r, f">= 1.5x: {'met' if r['median'] >= 1.5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
