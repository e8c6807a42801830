"""RecBole 1.2.1 vs causalrec: BPR on MovieLens-100K, RecBole's default protocol, side by side.

RecBole needs numpy<2, so it runs in its own virtual environment (built on first use under
``$CAUSALREC_BENCH_CACHE/recbole-1.2.1``, see ``peers.py``: Python 3.11, torch 2.13 CPU,
recbole==1.2.1, numpy<2). Both
libraries train BPR with 64-dim embeddings on the same ml-100k atomic file (causalrec's
fetched copy from the recbole wheel): random 8:1:1 split per user, full ranking with
training items masked, early stopping on validation. RecBole uses its defaults (Adam lr
1e-3, batch 2048, stopping_step 10, valid metric MRR@10); causalrec its tuned BPR settings
(see ``train_ml100k.DEFAULT_PROTOCOL``: lr 2e-3, patience 5 on NDCG@10). Both run with the
same number of torch threads, interleaved (RecBole, causalrec, RecBole, causalrec, ...).

Reported: test NDCG@10 / Recall@10 / MRR@10 / Hit@10 and wall times of every run (RecBole:
its ``run_recbole`` call, data preparation included; causalrec: its ``run``), and the median
wall-time ratio causalrec / RecBole with its min-max over pairs (target <= 0.3). The two
libraries train different models from different random streams, so their metrics cannot be
equal; the check is quality: in a full run causalrec's median NDCG@10 must be at least
RecBole's minus 0.005, or the run says so and exits non-zero (``--quick`` stops both after 2
epochs, where the check is skipped).

    .venv/bin/python scripts/bench/recbole_peer.py [--repeats 3]
    .venv/bin/python scripts/bench/recbole_peer.py --quick       # 2 epochs each, 2 pairs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from peers import (  # noqa: E402
    fail,
    fmt_ratio,
    peer_venv,
    ratio_summary,
    summary,
    torch_requirement,
)

RECBOLE_VERSION = "1.2.1"

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


def build_venv() -> Path:
    return peer_venv(f"recbole-{RECBOLE_VERSION}", "import recbole; print(recbole.__version__)",
                     RECBOLE_VERSION, installs=[[
                         torch_requirement(), f"recbole=={RECBOLE_VERSION}", "numpy<2",
                         "scipy<1.14", "pandas<2.3", "setuptools>=77,<81"]])


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved pairs")
    ap.add_argument("--quick", action="store_true", help="2 epochs each, 2 pairs (a smoke run)")
    args = ap.parse_args(argv)
    py = build_venv()
    # RecBole's clock starts after its imports; start causalrec's after its own (Lightning,
    # torchmetrics and the training modules, imported lazily on the first run otherwise)
    import lightning.pytorch  # noqa: F401

    import causalrec.experiment.runner  # noqa: F401
    import causalrec.models  # noqa: F401
    epochs = 2 if args.quick else None
    repeats = 2 if args.quick else args.repeats
    runs = {"RecBole": [], "causalrec": []}
    with tempfile.TemporaryDirectory() as tmp:
        data_path = ml100k_dir(Path(tmp))
        for _ in range(repeats):
            runs["RecBole"].append(run_recbole(py, data_path, epochs or 300, args.threads,
                                               args.seed))
            shutil.rmtree(data_path / "saved", ignore_errors=True)
            runs["causalrec"].append(run_causalrec(epochs, args.threads, args.seed))
    print(f"ml-100k, BPR dim 64, RecBole {RECBOLE_VERSION} default protocol (RS 8:1:1 by user, "
          f"full ranking); threads={args.threads}; {repeats} interleaved pairs"
          + ("; --quick: 2 epochs each" if args.quick else ""))
    print(f"{'library':<10} {'pair':>4} {'ndcg@10':>8} {'recall@10':>9} {'mrr@10':>7} "
          f"{'hit@10':>7} {'wall_s':>7}")
    for name, rs in runs.items():
        for i, r in enumerate(rs):
            t_ = r["test"]
            print(f"{name:<10} {i:>4} {t_['ndcg@10']:>8.4f} {t_['recall@10']:>9.4f} "
                  f"{t_['mrr@10']:>7.4f} {t_['hit@10']:>7.4f} {r['wall_s']:>7.1f}")
    # ratio_summary(a, b) is b / a: RecBole's time as "ours" gives causalrec / RecBole
    r = ratio_summary([x["wall_s"] for x in runs["RecBole"]],
                      [x["wall_s"] for x in runs["causalrec"]])
    ndcg = {k: statistics.median(x["test"]["ndcg@10"] for x in v) for k, v in runs.items()}
    print(f"\ncausalrec / RecBole wall time: {fmt_ratio(r)} (target <= 0.3: "
          f"{'met' if r['median'] <= 0.3 else 'NOT met'}); median NDCG@10 causalrec "
          f"{ndcg['causalrec']:.4f} vs RecBole {ndcg['RecBole']:.4f}; causalrec epochs "
          f"{[x['epochs'] for x in runs['causalrec']]}")
    summary("train", f"RecBole {RECBOLE_VERSION}", "causalrec wall time / RecBole wall time "
            "(ml-100k BPR" + (", 2 epochs)" if args.quick else ")"), r,
            f"<= 0.3x: {'met' if r['median'] <= 0.3 else 'NOT met'}; NDCG@10 "
            f"{ndcg['causalrec']:.4f} vs {ndcg['RecBole']:.4f}")
    if not args.quick and ndcg["causalrec"] < ndcg["RecBole"] - 0.005:
        fail(f"causalrec's NDCG@10 {ndcg['causalrec']:.4f} is below RecBole's "
             f"{ndcg['RecBole']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
