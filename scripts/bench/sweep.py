"""Sweep overhead and local parallelism.

Runs the same small multirun (N seeds of the generated dataset) twice, with Hydra's basic
(sequential) launcher and with the joblib launcher (2 workers), and prints:
- the overhead of a sequential multirun beyond training, per run: the extra wall time of an
  N-run sweep over a 1-run sweep, minus the extra training time the N-1 runs recorded,
  divided by N-1 (process start-up cancels out)   (target < 1 s)
- the joblib speed-up over the sequential sweep on this machine's cores.

    python scripts/bench/sweep.py [--runs 6] [--epochs 3] [--quick]
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


def _sweep(out: Path, launcher: list[str], seeds: str, epochs: int) -> tuple[float, list[float]]:
    exe = Path(sys.executable).with_name("causalrec-train")
    env = {**os.environ, "CAUSALREC_OUTPUT": str(out), "WANDB_MODE": "disabled"}
    t0 = time.perf_counter()
    subprocess.run([str(exe), "-m", *launcher, f"seed={seeds}", "logger=none",
                    f"trainer.max_epochs={epochs}", "trainer.enable_progress_bar=false"],
                   env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    runs = [json.loads(p.read_text())["wall_time_s"] for p in out.rglob("metrics.json")]
    return wall, runs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2 runs of 1 epoch")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.epochs = 2, 1
    seeds = ",".join(str(i) for i in range(args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        one_wall, one_runs = _sweep(Path(tmp) / "one", [], "0", args.epochs)
        seq_wall, seq_runs = _sweep(Path(tmp) / "seq", [], seeds, args.epochs)
        par_wall, par_runs = _sweep(Path(tmp) / "par", ["hydra/launcher=joblib",
                                                        "hydra.launcher.n_jobs=2"],
                                    seeds, args.epochs)
    assert len(seq_runs) == len(par_runs) == args.runs, (len(seq_runs), len(par_runs))
    startup = one_wall - one_runs[0]
    overhead = ((seq_wall - one_wall) - (sum(seq_runs) - one_runs[0])) / (args.runs - 1)
    print(f"# sweep overhead ({args.runs} runs x {args.epochs} epochs, generated dataset, "
          f"{os.cpu_count()} cores)")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| 1-run sweep: wall time minus the run's own time (start-up) | {startup:.2f} s | |")
    print(f"| sequential sweep wall time | {seq_wall:.2f} s | |")
    print(f"| sum of the runs' own wall times | {sum(seq_runs):.2f} s | |")
    print(f"| overhead per run beyond training | {overhead:.3f} s | < 1 s |")
    print(f"| joblib (2 workers) sweep wall time | {par_wall:.2f} s | |")
    print(f"| joblib speed-up over sequential | {seq_wall / par_wall:.2f}x | > 1 on 2 cores |")


if __name__ == "__main__":
    main()
