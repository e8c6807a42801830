"""RecBole 1.2.1 vs causalrec: BPR on MovieLens-100K, RecBole's default protocol, side by side.

RecBole needs numpy<2, so it runs in its own virtual environment (built here on first use:
``--venv``, default /tmp/recbole-venv, with torch 2.13 CPU, recbole==1.2.1, numpy<2). Both
libraries train BPR with 64-dim embeddings on the same ml-100k atomic file (causalrec's
fetched copy from the recbole wheel): random 8:1:1 split per user, full ranking with
training items masked, early stopping on validation. RecBole uses its defaults (Adam lr
1e-3, batch 2048, stopping_step 10, valid metric MRR@10); causalrec its tuned BPR settings
(see ``train_ml100k.DEFAULT_PROTOCOL``: lr 2e-3, patience 5 on NDCG@10). Both run with the
same number of torch threads, one after the other in this process's run.

Reported: test NDCG@10 / Recall@10 / MRR@10 / Hit@10 and wall times (RecBole: its
``run_recbole`` call, data preparation included; causalrec: its ``run``), and the ratio.

    .venv/bin/python scripts/bench/recbole_peer.py
    .venv/bin/python scripts/bench/recbole_peer.py --quick       # 2 epochs each
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TORCH_WHEEL_DIR = Path("/opt/wheels")

RUNNER = r'''
import functools, json, sys, time
import torch
# RecBole 1.2.1 reloads the checkpoint it just wrote with torch.load(); torch >= 2.6 defaults
# to weights_only=True, which refuses RecBole's pickled config. The file is RecBole's own.
torch.load = functools.partial(torch.load, weights_only=False)
torch.set_num_threads(int(sys.argv[3]))
from recbole.quick_start import run_recbole
cfg = json.loads(sys.argv[2])
t0 = time.perf_counter()
res = run_recbole(model="BPR", dataset="ml-100k", config_dict=cfg)
wall = time.perf_counter() - t0
out = {"wall_s": wall, "test": {k: float(v) for k, v in res["test_result"].items()},
       "best_valid": float(res["best_valid_score"])}
print("RECBOLE_RESULT " + json.dumps(out))
'''


def build_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    if py.exists():
        probe = subprocess.run([str(py), "-c", "import recbole, numpy; print(recbole.__version__)"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "1.2.1":
            return py
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheels = sorted(TORCH_WHEEL_DIR.glob("torch-2.13.0*cpu*.whl")) if TORCH_WHEEL_DIR.exists() \
        else []
    torch_req = str(wheels[0]) if wheels else "torch==2.13.0"
    subprocess.run([str(py), "-m", "pip", "install", "-q", torch_req, "recbole==1.2.1",
                    "numpy<2", "scipy<1.14", "pandas<2.3", "setuptools>=77,<81"], check=True)
    return py


def ml100k_dir(tmp: Path) -> Path:
    from causalrec.data import fetch

    src = Path(fetch("ml-100k", quiet=True))
    inter = src if src.suffix == ".inter" else next(src.rglob("ml-100k.inter"))
    dst = tmp / "ml-100k"
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy(inter, dst / "ml-100k.inter")
    return tmp


def run_recbole(py: Path, data_path: Path, epochs: int, threads: int, seed: int) -> dict:
    cfg = {"data_path": str(data_path), "embedding_size": 64, "epochs": epochs,
           "seed": seed, "reproducibility": True, "show_progress": False,
           "checkpoint_dir": str(data_path / "saved"), "use_gpu": False,
           "log_wandb": False, "state": "WARNING"}
    script = data_path / "run_recbole_bpr.py"
    script.write_text(RUNNER)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    proc = subprocess.run([str(py), str(script), "ml-100k", json.dumps(cfg), str(threads)],
                          capture_output=True, text=True, env=env, cwd=str(data_path))
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RECBOLE_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"RecBole run failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(line.split(" ", 1)[1])


def run_causalrec(epochs: int | None, threads: int, seed: int) -> dict:
    sys.path.insert(0, str(HERE))
    from train_ml100k import DEFAULT_PROTOCOL, run_one

    overrides = list(DEFAULT_PROTOCOL["bpr"])
    if epochs is not None:
        overrides.append(f"trainer.max_epochs={epochs}")
    m = run_one(overrides, seed, threads)
    return {"wall_s": m["wall_s"], "epochs": m.get("epochs"),
            "test": {k.split("/", 1)[1]: v for k, v in m.items() if k.startswith("test/")}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--venv", default="/tmp/recbole-venv")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="2 epochs each (a smoke run)")
    args = ap.parse_args(argv)
    py = build_venv(Path(args.venv))
    with tempfile.TemporaryDirectory() as tmp:
        data_path = ml100k_dir(Path(tmp))
        t = time.perf_counter()
        rb = run_recbole(py, data_path, 2 if args.quick else 300, args.threads, args.seed)
        rb["outer_s"] = time.perf_counter() - t
    cr = run_causalrec(2 if args.quick else None, args.threads, args.seed)
    print(f"\nml-100k, BPR dim 64, RecBole default protocol (RS 8:1:1 by user, full ranking); "
          f"threads={args.threads}")
    print(f"{'library':<10} {'ndcg@10':>8} {'recall@10':>9} {'mrr@10':>7} {'hit@10':>7} "
          f"{'wall_s':>7}")
    for name, r in (("RecBole", rb), ("causalrec", cr)):
        t_ = r["test"]
        print(f"{name:<10} {t_['ndcg@10']:>8.4f} {t_['recall@10']:>9.4f} {t_['mrr@10']:>7.4f} "
              f"{t_['hit@10']:>7.4f} {r['wall_s']:>7.1f}")
    print(f"\ncausalrec / RecBole wall-time ratio: {cr['wall_s'] / rb['wall_s']:.3f} "
          f"(target <= 0.5); causalrec epochs {cr['epochs']}")
    return rb, cr


if __name__ == "__main__":
    main()
