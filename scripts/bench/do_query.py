"""Interventional queries: causalrec's ``do_query`` beside pgmpy and pyAgrum.

On the bnlearn networks pgmpy ships (read offline from the files inside pgmpy):

1. **pgmpy** ``CausalInference.query``: for each network the intervention whose adjustment
   set (pgmpy's default: the parents of the intervened node) has the most joint states is
   chosen and ``P(descendant | do(node = first state))`` answered by both. pgmpy's query runs
   one variable elimination per joint state of the adjustment set; ``do_query`` mutilates the
   graph and runs one. A last column times pgmpy's own mutilation route
   (``DiscreteBayesianNetwork.do`` then ``VariableElimination``).
2. **pyAgrum** (a C++ junction-tree engine, in its own venv built on first use): random
   do-tables ``P(Y | do(X = x))`` for every state x of X (Y a descendant of X), answered by
   causalrec's batched ``do_query`` and by pyAgrum's ``LazyPropagation`` on the mutilated
   network (arcs into X erased, hard evidence X = x, one posterior per x; the mutilation and
   the junction tree are built inside the timed call, as ``do_query`` builds its elimination).
   pyAgrum reads BIF probabilities as 32-bit floats, so every CPT is refilled with the exact
   doubles pgmpy holds before anything is timed; where pyAgrum's BIF reader refuses a file
   (labels with "/", e.g. child), the same network is built from pgmpy's CPDs ("from" column).
3. All values of a >= 4-state intervened node: one batched elimination vs one per value.

Every pair is timed interleaved (causalrec, peer, causalrec, peer, ...); reported: per-query
times, and the median ratio (peer time / causalrec time) with its min-max over pairs. The
answers must agree (1e-8 for pgmpy, 1e-9 for pyAgrum) or the run prints the disagreement and
exits non-zero.

    python scripts/bench/do_query.py [--quick] [--timeout SECONDS] [--networks a,b,...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import signal
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (  # noqa: E402
    WORKER_LOOP,
    Worker,
    fail,
    fmt_ratio,
    peer_venv,
    ratio_summary,
    summary,
)

NETWORKS = ("alarm", "insurance", "child", "hailfinder", "win95pts", "andes")
QUICK_NETWORKS = ("alarm", "insurance", "child")
#: pyAgrum's networks: every bnlearn network pgmpy ships that loads in seconds with pgmpy's
#: BIF reader (the munin family, diabetes, link, pathfinder and pigs take 10-30 s each)
AGRUM_NETWORKS = ("asia", "cancer", "earthquake", "sachs", "survey", "alarm", "barley",
                  "child", "insurance", "mildew", "water", "hailfinder", "hepar2", "win95pts",
                  "andes")
AGRUM_QUICK = ("asia", "sachs", "alarm", "child", "insurance", "hailfinder", "win95pts")
AGRUM_VERSION = "3.3.1"


class _Timeout(Exception):
    pass


def _alarm(seconds: float):
    def handler(signum, frame):
        raise _Timeout

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _clear_alarm():
    signal.setitimer(signal.ITIMER_REAL, 0)


def load(name: str):
    from pgmpy.utils import get_example_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return get_example_model(name)


def choose_intervention(bn):
    """The node whose parents have the most joint states (ties: more parents, then name),
    and a descendant to query (its deepest descendant, ties by name)."""
    import networkx as nx

    card = {c.variable: int(c.cardinality[0]) for c in bn.get_cpds()}
    best = None
    for node in sorted(bn.nodes()):
        parents = list(bn.get_parents(node))
        desc = nx.descendants(bn, node)
        if not parents or not desc:
            continue
        key = (int(np.prod([card[p] for p in parents])), len(parents), node)
        if best is None or key > best[0]:
            best = (key, node, parents, desc)
    _, node, parents, desc = best
    depth = {d: nx.shortest_path_length(bn, node, d) for d in desc}
    target = max(sorted(desc), key=lambda d: depth[d])
    return node, parents, target


def choose_multistate(bn, min_states=4):
    """A node with >= ``min_states`` states and a descendant (most states, then most
    descendants), and its deepest descendant."""
    import networkx as nx

    card = {c.variable: int(c.cardinality[0]) for c in bn.get_cpds()}
    best = None
    for node in sorted(bn.nodes()):
        if card[node] < min_states:
            continue
        desc = nx.descendants(bn, node)
        if not desc:
            continue
        key = (card[node], len(desc), node)
        if best is None or key > best[0]:
            best = (key, node, desc)
    if best is None:
        return None
    _, node, desc = best
    depth = {d: nx.shortest_path_length(bn, node, d) for d in desc}
    return node, max(sorted(desc), key=lambda d: depth[d]), card[node]


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def _pgmpy_mutilated(bn, node, state, target):
    from pgmpy.inference import VariableElimination

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return VariableElimination(bn.do([node])).query([target], evidence={node: state},
                                                         show_progress=False)


def pgmpy_section(names, reps, cap) -> list:
    import pgmpy
    from pgmpy.inference import CausalInference

    from causalrec.graphs import ALL, do_query, prepare

    print(f"1. do_query vs pgmpy {pgmpy.__version__} CausalInference.query (one query, no "
          "evidence; median seconds per query over interleaved pairs)")
    header = (f"{'network':<11}{'nodes':>6}  {'do(node)':<16}{'|adj| states':>13}  "
              f"{'query':<16}{'pgmpy':>9}{'causalrec':>11}  {'pgmpy/causalrec':<34}"
              f"{'pgmpy-mut':>10}{'ratio':>8}")
    print(header)
    print("-" * len(header))
    all_ours, all_theirs, mut_ratios, capped, batch_rows = [], [], [], [], []
    for name in names:
        bn = load(name)
        node, parents, target = choose_intervention(bn)
        card = {c.variable: int(c.cardinality[0]) for c in bn.get_cpds()}
        adj_states = int(np.prod([card[p] for p in parents]))
        state = bn.get_cpds(node).state_names[node][0]
        ci = CausalInference(bn)
        ours_t, theirs_t = [], []
        for _ in range(reps):  # A B A B; pgmpy is repeated only while a call is quick
            t, ours = timed(do_query, bn, [target], {node: state})
            ours_t.append(t)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _alarm(cap)
                t0 = time.perf_counter()
                try:
                    theirs = ci.query([target], do={node: state}, show_progress=False)
                except _Timeout:
                    theirs = None
                finally:
                    _clear_alarm()
                theirs_t.append(time.perf_counter() - t0)
            if theirs is None:
                capped.append(name)
                break
            diff = float(np.abs(theirs.values - ours.values).max())
            if diff > 1e-8:
                fail(f"{name}: P({target} | do({node}={state!r})) differs from pgmpy by {diff:.2e}")
            if theirs_t[-1] > 1.0:
                break
        k = len(theirs_t)
        all_ours += ours_t[:k]
        all_theirs += theirs_t
        r = ratio_summary(ours_t[:k], theirs_t)
        their_s = f">{cap:.0f}" if name in capped else f"{r['peer_s']:.4f}"
        mut_o, mut_p = [], []
        for _ in range(reps):
            t, ours = timed(do_query, bn, [target], {node: state})
            mut_o.append(t)
            t, mut = timed(_pgmpy_mutilated, bn, node, state, target)
            mut_p.append(t)
            if float(np.abs(mut.values - ours.values).max()) > 1e-8:
                fail(f"{name}: pgmpy's mutilated-network answer differs")
        m = ratio_summary(mut_o, mut_p)
        mut_ratios.append(m["median"])
        print(f"{name:<11}{len(bn.nodes()):>6}  {node[:15]:<16}{adj_states:>13}  "
              f"{target[:15]:<16}{their_s:>9}{r['ours_s']:>11.4f}  "
              f"{(('>' if name in capped else '') + fmt_ratio(r)):<34}{m['peer_s']:>10.4f}"
              f"{m['median']:>7.1f}x")
        multi = choose_multistate(bn)
        if multi is not None:
            x, y, kx = multi
            net = prepare(bn)
            b_t, p_t = [], []
            for _ in range(reps):
                t, b = timed(do_query, net, [y], {x: ALL})
                b_t.append(t)
                t, pv = timed(do_query, net, [y], {x: ALL}, batched=False)
                p_t.append(t)
                if float(np.abs(b.values - pv.values).max()) > 1e-10:
                    fail(f"{name}: batched and per-value do-tables differ")
            batch_rows.append((name, x, kx, y, ratio_summary(b_t, p_t)))
    print("-" * len(header))
    r = ratio_summary(all_ours, all_theirs)
    print(f"all pairs: pgmpy/causalrec {fmt_ratio(r)} (target >= 10x: "
          f"{'met' if r['median'] >= 10 else 'NOT met'}); pgmpy's own mutilate-then-eliminate "
          f"route: median {statistics.median(mut_ratios):.1f}x")
    if capped:
        print(f"pgmpy timed out (cap {cap:.0f} s) on {', '.join(capped)}: counted as cap / ours, "
              "a lower bound")
    summary("do_query", f"pgmpy {pgmpy.__version__}", "CausalInference.query time / do_query "
            "time", r, f">= 10x: {'met' if r['median'] >= 10 else 'NOT met'}")
    return batch_rows


AGRUM_WORKER = r'''
import time
import numpy as np
import pyagrum as gum
NETS = {}

def refill(bn, cpds):
    """Every CPT refilled with pgmpy's exact doubles, by variable and label name."""
    for var, (states, parents, values) in cpds.items():
        pot = bn.cpt(var)
        arr = np.asarray(values, dtype=np.float64).reshape(
            [len(states)] + [len(cpds[p][0]) for p in parents])
        axes = [var, *parents]
        for ax, v in enumerate(axes):  # label order: pyAgrum's, by name
            labels = list(bn.variable(v).labels())
            own = cpds[v][0]
            arr = np.take(arr, [own.index(lb) for lb in labels], axis=ax)
        order = list(reversed(pot.names))  # toarray()/fillWith: last name varies slowest
        arr = np.transpose(arr, [axes.index(v) for v in order])
        pot.fillWith(arr.ravel().tolist())
        if not np.array_equal(pot.toarray(), arr):
            raise RuntimeError(f"refill of {var} failed")

def do_table(bn, x, y, labels):
    m = gum.BayesNet(bn)
    for p in list(m.parents(m.idFromName(x))):
        m.eraseArc(p, m.idFromName(x))
    ie = gum.LazyPropagation(m)
    ie.addTarget(y)
    ie.setEvidence({x: labels[0]})
    out = []
    for lb in labels:
        ie.chgEvidence(x, lb)
        ie.makeInference()
        out.append(ie.posterior(y).toarray().tolist())
    return out

def handle(req):
    if req["cmd"] == "version":
        return {"pyagrum": gum.__version__}
    if req["cmd"] == "load":
        cpds = req["cpds"]
        if req.get("bif"):
            bn = gum.loadBN(req["bif"])
        else:  # pyAgrum's BIF reader refuses some bnlearn labels (child's "Asy/Patch")
            bn = gum.BayesNet(req["name"])
            for var, (states, _, _) in cpds.items():
                bn.add(gum.LabelizedVariable(var, var, list(states)))
            for var, (_, parents, _) in cpds.items():
                for p in parents:
                    bn.addArc(p, var)
        refill(bn, cpds)
        NETS[req["name"]] = bn
        return {"nodes": bn.size()}
    bn = NETS[req["name"]]
    t0 = time.perf_counter()
    table = do_table(bn, req["x"], req["y"], req["labels"])
    seconds = time.perf_counter() - t0
    labels_y = list(bn.variable(req["y"]).labels())
    return {"seconds": seconds, "table": table, "labels_y": labels_y}
''' + WORKER_LOOP


def agrum_python() -> Path:
    return peer_venv(f"pyagrum-{AGRUM_VERSION}", "import pyagrum; print(pyagrum.__version__)",
                     AGRUM_VERSION, installs=[[f"pyagrum=={AGRUM_VERSION}", "numpy"]])


def agrum_queries(bn, k: int, rng) -> list:
    """``k`` random (X, Y) with Y a descendant of X (so the intervention matters)."""
    import networkx as nx

    nodes = sorted(bn.nodes())
    out = []
    while len(out) < k:
        x = nodes[int(rng.integers(len(nodes)))]
        desc = sorted(nx.descendants(bn, x))
        if desc:
            out.append((x, desc[int(rng.integers(len(desc)))]))
    return out


def agrum_section(names, reps: int, k: int) -> None:
    from causalrec.graphs import ALL, do_query, prepare

    py = agrum_python()
    example_dir = Path(__import__("pgmpy").__file__).parent / "utils" / "example_models"
    with tempfile.TemporaryDirectory() as tmp, Worker(py, AGRUM_WORKER, Path(tmp)) as agrum:
        version = agrum.ask(cmd="version")["pyagrum"]
        print(f"\n2. do_query vs pyAgrum {version} LazyPropagation on the mutilated network "
              f"(own venv): {k} random do-tables P(Y | do(X)) per network, all states of X; "
              f"{reps} interleaved pairs each; median ms per do-table")
        header = (f"{'network':<11}{'nodes':>6}{'from':>7}{'pyAgrum ms':>12}{'causalrec ms':>14}  "
                  "pyAgrum/causalrec (median, min-max over pairs)")
        print(header)
        print("-" * len(header))
        all_o, all_p, n_tables = [], [], 0
        for name in names:
            bn = load(name)
            net = prepare(bn)
            bif = Path(tmp) / f"{name}.bif"
            text = gzip.open(example_dir / f"{name}.bif.gz").read()
            bif.write_bytes(text)
            cpds = {c.variable: (list(c.state_names[c.variable]), list(c.variables[1:]),
                                 np.asarray(c.values, dtype=np.float64).ravel().tolist())
                    for c in bn.get_cpds()}
            # pyAgrum's BIF reader where it parses the file, else the same network built
            # from the CPDs; either way every CPT then holds pgmpy's exact doubles
            loaded = "BIF" if b"/" not in text else "built"
            agrum.ask(cmd="load", name=name, bif=str(bif) if loaded == "BIF" else None,
                      cpds=json.loads(json.dumps(cpds)))
            rng = np.random.default_rng(sum(map(ord, name)))
            o_t, p_t = [], []
            for x, y in agrum_queries(bn, k, rng):
                labels = net.states[x]
                for _ in range(reps):
                    t, f = timed(do_query, net, [y], {x: ALL})
                    o_t.append(t)
                    r = agrum.ask(cmd="run", name=name, x=x, y=y, labels=labels)
                    p_t.append(r["seconds"])
                    theirs = np.asarray(r["table"]).T  # [y, x]
                    perm = [r["labels_y"].index(s) for s in net.states[y]]
                    diff = float(np.abs(theirs[perm] - f.values).max())
                    if diff > 1e-9:
                        fail(f"{name}: P({y} | do({x})) differs from pyAgrum by {diff:.2e}")
                n_tables += 1
            s = ratio_summary(o_t, p_t)
            all_o += o_t
            all_p += p_t
            print(f"{name:<11}{len(bn.nodes()):>6}{loaded:>7}{s['peer_s'] * 1e3:>12.3f}"
                  f"{s['ours_s'] * 1e3:>14.3f}  {fmt_ratio(s)}")
    print("-" * len(header))
    s = ratio_summary(all_o, all_p)
    summary("do_query", f"pyAgrum {version}", "LazyPropagation (mutilated) time / do_query "
            "time per do-table", s, f">= 2x: {'met' if s['median'] >= 2 else 'NOT met'}")
    print(f"all {n_tables} do-tables ({len(all_o)} pairs), answers equal to 1e-9: "
          f"pyAgrum/causalrec {fmt_ratio(s)} (target >= 2x at the median: "
          f"{'met' if s['median'] >= 2 else 'NOT met'})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer networks and repeats")
    ap.add_argument("--timeout", type=float, default=None,
                    help="cap on one CausalInference.query call in seconds (default 120, quick 30)")
    ap.add_argument("--networks", default="", help="comma-separated subset of " + ",".join(NETWORKS))
    ap.add_argument("--tables", type=int, default=None, help="pyAgrum do-tables per network")
    args = ap.parse_args(argv)
    names = [n for n in args.networks.split(",") if n] or list(
        QUICK_NETWORKS if args.quick else NETWORKS)
    cap = args.timeout or (30.0 if args.quick else 120.0)
    reps = 3 if args.quick else 5
    batch_rows = pgmpy_section(names, reps, cap)
    agrum_section(list(AGRUM_QUICK if args.quick else AGRUM_NETWORKS), reps,
                  args.tables or (4 if args.quick else 10))
    print("\n3. All values of a >= 4-state intervened node: one batched elimination vs one per "
          "value (causalrec both)")
    header = (f"{'network':<11}{'do(node)':<18}{'states':>7}  {'query':<16}{'per-value':>11}"
              f"{'batched':>10}  per-value/batched")
    print(header)
    print("-" * len(header))
    for name, x, k, y, r in batch_rows:
        print(f"{name:<11}{x[:17]:<18}{k:>7}  {y[:15]:<16}{r['peer_s']:>11.4f}"
              f"{r['ours_s']:>10.4f}  {fmt_ratio(r)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
