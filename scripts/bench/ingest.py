"""Ingest: interactions with string ids from a file to a split dataset, causalrec vs RecBole 1.2.1.

The same generated interactions (``N`` rows, string ids ``u_0000123`` / ``i_004567``, Zipf
item popularity, a 0/1 label and a timestamp) are written once as Parquet (causalrec's
input) and once as a RecBole atomic ``.inter`` file (RecBole's input). Each library then
builds its split dataset in a fresh process, timed from the file to the three parts:

* causalrec: ``pd.read_parquet`` -> ``InteractionData.from_frame`` (ids -> indices, every
  column checked) -> ``make_split(protocol="random")`` (RecBole's RS 8:1:1 per user);
* RecBole: ``create_dataset(config)`` (reads the atomic file, remaps the token ids) ->
  ``dataset.build()`` (its RS 8:1:1 split, grouped by user, random order).

Peak memory is the process's maximum resident set (``ru_maxrss``), imports included;
times exclude interpreter start and imports; CPU time (user + system) is printed too, the
steadier figure on a shared machine. Both splits follow RecBole's counting rule, so the
part sizes and id counts must agree exactly; if they do not, the run exits non-zero. Each
library runs once per size (a 10M ingest is not cheap to repeat). RecBole runs in its own virtual environment
(numpy < 2), built on first use by ``recbole_peer.build_venv``. Targets (issue 15): 10M
interactions in under 30 s and 4 GiB on 2 cores.

    python scripts/bench/ingest.py                 # 10M interactions
    python scripts/bench/ingest.py --n 1000000     # 1M
    python scripts/bench/ingest.py --quick         # 200k smoke run
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

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

CPU_HELPER = r'''
def cpu(before):
    after = resource.getrusage(resource.RUSAGE_SELF)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
'''

CAUSALREC_RUNNER = r'''
import json, resource, sys, time
''' + CPU_HELPER + r'''
t0 = time.perf_counter()
import pandas as pd
from causalrec.data import InteractionData, make_split
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF)
df = pd.read_parquet(sys.argv[1])
t2 = time.perf_counter()
data = InteractionData.from_frame(df, user="user_id", item="item_id", label="label",
                                  timestamp="timestamp", name="ingest")
t3 = time.perf_counter()
split = make_split(data, "random", seed=0)
t4 = time.perf_counter()
print("RESULT " + json.dumps({"import_s": t1 - t0, "read_s": t2 - t1, "build_s": t3 - t2,
      "split_s": t4 - t3, "wall_s": t4 - t1, "sizes": split.sizes(),
      "users": data.n_users, "items": data.n_items, "cpu_s": cpu(r1),
      "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
'''

RECBOLE_RUNNER = r'''
import json, resource, sys, time
''' + CPU_HELPER + r'''
t0 = time.perf_counter()
import logging
from recbole.config import Config
from recbole.data import create_dataset
t1 = time.perf_counter()
cfg = Config(model="BPR", dataset="ingest", config_dict={
    "data_path": sys.argv[1], "load_col": {"inter": ["user_id", "item_id", "label", "timestamp"]},
    "eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "order": "RO", "group_by": "user",
                  "mode": "full"},
    "use_gpu": False, "state": "WARNING", "show_progress": False, "seed": 0,
    "checkpoint_dir": sys.argv[1] + "/saved"})
logging.getLogger().setLevel(logging.WARNING)
t2 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF)
dataset = create_dataset(cfg)
t3 = time.perf_counter()
train, valid, test = dataset.build()
t4 = time.perf_counter()
print("RESULT " + json.dumps({"import_s": t1 - t0, "read_s": 0.0, "build_s": t3 - t2,
      "split_s": t4 - t3, "wall_s": t4 - t2,
      "sizes": {"train": len(train), "valid": len(valid), "test": len(test)},
      "users": dataset.user_num - 1, "items": dataset.item_num - 1, "cpu_s": cpu(r1),
      "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
'''


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` interactions: users uniform over n/50, items Zipf(0.8) over n/200, string ids."""
    rng = np.random.default_rng(seed)
    n_users, n_items = max(n // 50, 10), max(n // 200, 10)
    p = 1.0 / np.arange(1, n_items + 1) ** 0.8
    users = rng.integers(0, n_users, n)
    items = rng.choice(n_items, n, p=p / p.sum())
    uid = np.char.add("u_", np.char.zfill(np.arange(n_users).astype(str), 7))
    iid = np.char.add("i_", np.char.zfill(np.arange(n_items).astype(str), 6))
    return pd.DataFrame({"user_id": uid[users].astype(object), "item_id": iid[items].astype(object),
                         "label": (rng.random(n) < 0.3).astype(np.float32),
                         "timestamp": rng.integers(1_500_000_000, 1_700_000_000, n)
                         .astype(np.float64)})


def write_inputs(df: pd.DataFrame, folder: Path, atomic_file: bool = True) -> tuple[Path, Path]:
    parquet = folder / "interactions.parquet"
    df.to_parquet(parquet, index=False)
    if not atomic_file:
        return parquet, folder
    atomic = folder / "ingest"
    atomic.mkdir()
    header = "user_id:token\titem_id:token\tlabel:float\ttimestamp:float\n"
    with open(atomic / "ingest.inter", "w") as f:
        f.write(header)
        df.to_csv(f, sep="\t", header=False, index=False, float_format="%.10g")
    return parquet, folder


def recbole_python() -> Path:
    """RecBole's venv (``recbole_peer.build_venv``: built on first use, then reused)."""
    import inspect

    sys.path.insert(0, str(HERE))
    from recbole_peer import build_venv

    if inspect.signature(build_venv).parameters:  # the older builder took the venv folder
        return build_venv(Path("/tmp/recbole-venv"))
    return build_venv()


def run_child(python: str, code: str, arg: str, threads: int, cwd: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONPATH": str(ROOT) if "causalrec" in code else ""}
    script = cwd / ("run_causalrec.py" if "causalrec" in code else "run_recbole.py")
    script.write_text(code)
    proc = subprocess.run([python, str(script), arg], capture_output=True, text=True, env=env,
                          cwd=str(cwd))
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{script.name} failed (rc={proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(line.split(" ", 1)[1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000, help="interactions")
    ap.add_argument("--quick", action="store_true", help="200k interactions (a smoke run)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-recbole", action="store_true", help="causalrec only")
    args = ap.parse_args(argv)
    n = 200_000 if args.quick else args.n
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        parquet, data_path = write_inputs(generate(n), tmp, atomic_file=not args.no_recbole)
        print(f"{n:,} interactions written as Parquet ({parquet.stat().st_size / 2**20:.0f} MiB)"
              f"{'' if args.no_recbole else ' and a RecBole atomic file'} in "
              f"{time.perf_counter() - t:.1f} s")
        cr = run_child(sys.executable, CAUSALREC_RUNNER, str(parquet), args.threads, tmp)
        rb = None
        if not args.no_recbole:
            rb = run_child(str(recbole_python()), RECBOLE_RUNNER, str(data_path), args.threads,
                           tmp)
    print(f"\n{n:,} interactions, string ids -> split dataset (random 8:1:1 per user); "
          f"threads={args.threads}")
    print(f"{'library':<10} {'users':>8} {'items':>7} {'train':>10} {'load+ids_s':>10} "
          f"{'split_s':>8} {'total_s':>8} {'cpu_s':>7} {'peak_GiB':>9}")
    for name, r in (("causalrec", cr), ("RecBole", rb)):
        if r is None:
            continue
        print(f"{name:<10} {r['users']:>8,} {r['items']:>7,} {r['sizes']['train']:>10,} "
              f"{r['read_s'] + r['build_s']:>10.2f} {r['split_s']:>8.2f} {r['wall_s']:>8.2f} "
              f"{r['cpu_s']:>7.2f} {r['peak_gib']:>9.2f}")
    print(f"\ncausalrec total {cr['wall_s']:.2f} s wall, {cr['cpu_s']:.2f} s CPU (target < 30 s "
          f"at 10M), peak {cr['peak_gib']:.2f} GiB (target < 4 GiB); on a busy machine the CPU "
          "time is the steadier figure")
    if rb is not None:
        same = all(cr[k] == rb[k] for k in ("users", "items", "sizes"))
        if not same:  # RecBole's counting rule is causalrec's: the parts must agree exactly
            raise SystemExit(f"the two splits differ: causalrec {cr['sizes']}, {cr['users']} "
                             f"users, {cr['items']} items; RecBole {rb['sizes']}, {rb['users']} "
                             f"users, {rb['items']} items")
        print(f"causalrec / RecBole: wall-time ratio {cr['wall_s'] / rb['wall_s']:.3f}, CPU-time "
              f"ratio {cr['cpu_s'] / rb['cpu_s']:.3f}, peak-memory ratio "
              f"{cr['peak_gib'] / rb['peak_gib']:.3f}")
    return cr, rb


if __name__ == "__main__":
    main()
