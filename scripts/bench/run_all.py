"""``make bench``: run every benchmark in scripts/bench/ and write docs/benchmarks.md.

Each benchmark prints its own figures with the peer it is compared with and the ratio,
measured side by side in one run; this script collects their output verbatim with the
machine's description, its load while the benchmarks ran, and the command that reproduces
each section. The peer comparisons (``SUMMARY |`` lines: the peer's real version, the median
ratio over interleaved pairs and its min-max) are tabulated at the top.

    python scripts/bench/run_all.py [--quick] [--only NAME[,NAME...]]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: modules the benchmarks import, not benchmarks themselves
HELPERS = {"run_all", "peers"}
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                          if x.startswith("MemTotal")).split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        mem = "?"
    import torch

    return (f"{cpu}, {os.cpu_count()} cores, {mem} RAM, Python {platform.python_version()}, "
            f"torch {torch.__version__}, no GPU" if not torch.cuda.is_available() else
            f"{cpu}, {os.cpu_count()} cores, {mem}, GPU {torch.cuda.get_device_name(0)}")


def read_sections(path: Path) -> dict[str, list[str]]:
    """The ``## name`` sections of an existing benchmarks page (name -> its lines)."""
    sections: dict[str, list[str]] = {}
    current = None
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = []
            elif current is not None:
                sections[current].append(line)
    sections.pop("Peer comparisons", None)
    return sections


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    ap.add_argument("--only", default="", help="comma-separated benchmark names (the page's "
                    "other sections are kept as they were)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = ap.parse_args(argv)
    only = {n for n in args.only.split(",") if n}
    benches = sorted(p for p in HERE.glob("*.py") if p.stem not in HELPERS
                     and (not only or p.stem in only))
    from causalrec import atomic

    # sections of benchmarks not rerun now (``--only``) and hand-written sections are kept
    sections = read_sections(Path(args.out))
    failed = []
    for bench in benches:
        cmd = [sys.executable, str(bench.relative_to(ROOT))] + (["--quick"] if args.quick else [])
        print(f"== {bench.name}", flush=True)
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        took = time.perf_counter() - t0
        print(res.stdout[-4000:], flush=True)
        body = ["", f"`{' '.join(['python'] + cmd[1:])}` ({took:.0f} s; "
                f"{'reduced size' if args.quick else 'full size'}; 1-min load average "
                f"{load:.1f} at its start on {os.cpu_count()} cores; "
                f"{time.strftime('%Y-%m-%d %H:%M')})", ""]
        if res.returncode != 0:
            failed.append(bench.name)
            body += ["**failed**" + (" (answers disagree)" if "DISAGREEMENT" in res.stdout
                                     else "") + ":", "", "```",
                     *(res.stdout[-1500:] + "\n" + res.stderr[-3000:]).strip().splitlines(),
                     "```", ""]
        else:
            body += [*res.stdout.strip().splitlines(), ""]
        sections[bench.stem] = body
    summaries = [ln for lines in sections.values() for ln in lines
                 if ln.startswith("SUMMARY |")]
    table = ["## Peer comparisons", "",
             "Every comparison with a peer library, from the sections below: the peer's real "
             "version, the median ratio over interleaved pairs (A B A B) and its min-max. Each "
             "section's heading line gives its size and the machine's load when it ran: "
             "ratios from a loaded machine carry that load; the min-max column shows how much "
             "it moved them.", "",
             "| benchmark | peer (version) | ratio | median | min-max | pairs | target / check |",
             "|---|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(c.strip() for c in ln.split("|")[1:]) + " |" for ln in summaries]
    parts = ["# causalrec benchmarks", "",
             f"Measured on: {machine()}.", "",
             "Each section is one benchmark script's output: causalrec's figure, the peer it is "
             "compared with, and their ratio, measured side by side in the same run. Reproduce "
             "a section with the command under its heading; `make bench` reruns them all.", "",
             *table, ""]
    for name, lines in sections.items():
        parts += [f"## {name}", *lines]
    atomic.write_text(args.out, "\n".join(parts).rstrip() + "\n")
    print(f"wrote {args.out}" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
