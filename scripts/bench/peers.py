"""What every peer benchmark shares: the peer's own virtual environment (built on first use),
a worker process in it that answers timed requests, interleaved repetitions (A B A B ...)
and the median ratio with its min-max spread, and the equality check whose failure ends the
run with a non-zero exit.

Peers that cannot share causalrec's environment (obp pins numpy 1.23, RecBole needs numpy<2,
pyAgrum and sentence-transformers are kept out of causalrec's dependencies) live under
``$CAUSALREC_BENCH_CACHE`` (default ``~/.cache/causalrec-bench``), one venv per peer and
version, built with pip from PyPI the first time a benchmark needs it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

CACHE = Path(os.environ.get("CAUSALREC_BENCH_CACHE", Path.home() / ".cache" / "causalrec-bench"))
TORCH_WHEEL_DIR = Path("/opt/wheels")


def torch_requirement() -> str:
    """The CPU torch 2.13 wheel (a local copy when there is one)."""
    wheels = sorted(TORCH_WHEEL_DIR.glob("torch-2.13.0*cpu*.whl")) if TORCH_WHEEL_DIR.exists() \
        else []
    return str(wheels[0]) if wheels else "torch==2.13.0"


def peer_venv(name: str, probe: str, expect: str, installs: Sequence[Sequence[str]],
              python: str = "python3.11") -> Path:
    """The python of the peer venv ``CACHE/name``, built on first use.

    ``probe`` is Python code printing the peer's version; when it prints ``expect`` the venv
    is reused. Otherwise the venv is (re)created and each ``installs`` entry is one
    ``pip install`` argument list, run in order.
    """
    venv = CACHE / name
    py = venv / "bin" / "python"
    if py.exists():
        got = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
        if got.returncode == 0 and got.stdout.strip().splitlines()[-1:] == [expect]:
            return py
    print(f"building the {name} peer environment in {venv} (first use) ...", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True)
    for args in installs:
        subprocess.run([str(py), "-m", "pip", "install", "-q", *args], check=True)
    got = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
    if got.returncode != 0 or got.stdout.strip().splitlines()[-1:] != [expect]:
        raise SystemExit(f"the {name} peer environment does not import: {got.stderr[-2000:]}")
    return py


class Worker:
    """A peer process (``script`` run by ``python``) answering one JSON request per line with
    one JSON line prefixed ``PEER ``; it stays up so repeated requests are timed without
    start-up and import costs."""

    def __init__(self, python: Path, script: str, cwd: Path, env: dict | None = None):
        cwd.mkdir(parents=True, exist_ok=True)
        path = cwd / "peer_worker.py"
        path.write_text(script)
        self.proc = subprocess.Popen([str(python), str(path)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=str(cwd), env={**os.environ, **(env or {})})

    def ask(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()[-3000:]
                raise SystemExit(f"the peer process ended (rc={self.proc.wait()}):\n{err}")
            if line.startswith("PEER "):
                return json.loads(line[5:])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


#: the loop a worker script ends with: ``handle(request) -> dict`` is defined above it
WORKER_LOOP = r'''
import json as _json, sys as _sys
for _line in _sys.stdin:
    _out = handle(_json.loads(_line))
    print("PEER " + _json.dumps(_out), flush=True)
'''


def interleaved(ours: Callable[[], float], peer: Callable[[], float], repeats: int
                ) -> tuple[list[float], list[float]]:
    """Time ``ours`` and ``peer`` alternately (A B A B ...), ``repeats`` pairs; each callable
    returns its own measured seconds."""
    a, b = [], []
    for _ in range(repeats):
        a.append(ours())
        b.append(peer())
    return a, b


def ratio_summary(ours: Sequence[float], peer: Sequence[float]) -> dict:
    """Per-pair ratios ``peer / ours`` (a speed-up: > 1 means causalrec is faster): median and
    min-max, plus the median times."""
    ratios = [p / o for o, p in zip(ours, peer)]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios),
            "ours_s": statistics.median(ours), "peer_s": statistics.median(peer),
            "pairs": len(ratios)}


def fmt_ratio(r: dict, unit: str = "x") -> str:
    return f"{r['median']:.2f}{unit} (min {r['min']:.2f}, max {r['max']:.2f}; {r['pairs']} pairs)"


def fail(message: str) -> None:
    """Answers disagree: say so and end the benchmark with a non-zero exit."""
    print(f"DISAGREEMENT: {message}", flush=True)
    sys.exit(2)


def summary(bench: str, peer: str, ratio_name: str, r: dict, target: str) -> None:
    """One machine-readable line per peer comparison; ``run_all.py`` tabulates them at the
    top of docs/benchmarks.md."""
    print(f"SUMMARY | {bench} | {peer} | {ratio_name} | {r['median']:.2f}x | "
          f"{r['min']:.2f}-{r['max']:.2f}x | {r['pairs']} | {target}", flush=True)
