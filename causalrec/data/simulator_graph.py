"""Read a declared causal graph for the simulator and check that the simulator can honour it.

The simulator (:mod:`causalrec.data.simulate`) generates one row per (user, item) pair from a
structural causal model whose variables are the graph's nodes and whose parents are exactly
the graph's parents. This module turns whatever names a graph (a name in ``conf/graph/``, a
YAML path, a mapping, or a :class:`causalrec.graphs.GraphSpec`) into a plain, validated
:class:`SimGraph`: nodes with their states, edges, treatment and outcome, topological order.

A graph is refused with a message naming the graph and the node or edge when the simulator
cannot generate it: a cycle, an edge to an unknown node, a root node the simulator has no
generator for, a non-binary treatment.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

#: root nodes the simulator knows how to generate, and what they mean (see simulate.py)
ROOT_GENERATORS = {
    "intent": "the user's latent intent: the dominant topic of the user's interest mixture",
    "popularity": "the item's popularity level: Zipf popularity binned into equal-mass levels",
    "conformity": "the item's popularity level (DICE's conformity cause), as 'popularity'",
    "interest": "the user-item interest level: the user's mixture weight on the item's topic, "
                "binned into equal-count levels",
}


class GraphSpecError(ValueError):
    """A graph the simulator cannot use; the message names the graph and the node or edge."""


@dataclass
class SimNode:
    name: str
    states: list
    role: str | None = None
    latent: bool = False
    description: str = ""

    @property
    def n_states(self) -> int:
        return len(self.states)

    def numeric_states(self):
        """State values as floats when they all are numbers, else the indices 0..n-1."""
        import numpy as np

        try:
            return np.asarray([float(s) for s in self.states])
        except (TypeError, ValueError):
            return np.arange(self.n_states, dtype=float)


@dataclass
class SimGraph:
    name: str
    source: str
    nodes: dict[str, SimNode]
    edges: list[tuple[str, str]]
    treatment: str
    outcome: str
    mechanisms: dict = field(default_factory=dict)
    description: str = ""

    def parents(self, node: str) -> list[str]:
        return [a for a, b in self.edges if b == node]

    def children(self, node: str) -> list[str]:
        return [b for a, b in self.edges if a == node]

    def has_edge(self, a: str, b: str) -> bool:
        return (a, b) in self._edge_set

    def __post_init__(self) -> None:
        self._edge_set = set(self.edges)
        self.order = _topological_order(self)

    def roots(self) -> list[str]:
        return [n for n in self.order if not self.parents(n)]

    def descendants(self, node: str) -> set[str]:
        out, todo = set(), [node]
        while todo:
            for c in self.children(todo.pop()):
                if c not in out:
                    out.add(c)
                    todo.append(c)
        return out

    def ancestors(self, node: str) -> set[str]:
        out, todo = set(), [node]
        while todo:
            for p in self.parents(todo.pop()):
                if p not in out:
                    out.add(p)
                    todo.append(p)
        return out

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description,
                "treatment": self.treatment, "outcome": self.outcome,
                "nodes": [{"name": n.name, "states": list(n.states), "role": n.role,
                           "latent": n.latent, "description": n.description}
                          for n in self.nodes.values()],
                "edges": [list(e) for e in self.edges]}


def _topological_order(g: SimGraph) -> list[str]:
    indeg = {n: 0 for n in g.nodes}
    for _, b in g.edges:
        indeg[b] += 1
    order = []
    ready = [n for n in g.nodes if indeg[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        for c in g.children(n):
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if len(order) < len(g.nodes):
        left = [n for n in g.nodes if n not in order]
        raise GraphSpecError(f"graph {g.name!r} ({g.source}) has a cycle among nodes {left}")
    return order


def _read_named(name: str) -> tuple[dict, str]:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise GraphSpecError(f"graph file {str(path)!r} does not exist")
        return yaml.safe_load(path.read_text()), str(path)
    res = importlib.resources.files("causalrec.conf") / "graph" / f"{name}.yaml"
    if not res.is_file():
        have = sorted(p.name[:-5] for p in (importlib.resources.files("causalrec.conf")
                                            / "graph").iterdir() if p.name.endswith(".yaml"))
        raise GraphSpecError(f"unknown graph {name!r}: no conf/graph/{name}.yaml "
                             f"(shipped graphs: {have})")
    return yaml.safe_load(res.read_text()), f"conf/graph/{name}.yaml"


def _spec_object_to_dict(spec) -> dict:
    """A GraphSpec-like object (from causalrec.graphs) as a plain mapping."""
    for meth in ("to_dict", "as_dict", "dict"):
        if callable(getattr(spec, meth, None)):
            d = getattr(spec, meth)()
            if isinstance(d, Mapping):
                return dict(d)
    d = {k: getattr(spec, k) for k in ("name", "description", "treatment", "outcome",
                                         "edges", "mechanisms") if hasattr(spec, k)}
    nodes = getattr(spec, "nodes", None)
    if nodes is None:
        raise GraphSpecError(f"cannot read a graph from a {type(spec).__name__}: it has no nodes")
    if isinstance(nodes, Mapping):
        nodes = list(nodes.values())
    d["nodes"] = [n if isinstance(n, Mapping) else
                  {k: getattr(n, k) for k in ("name", "states", "role", "latent", "description")
                   if hasattr(n, k)} for n in nodes]
    return d


def read_graph(graph) -> SimGraph:
    """A :class:`SimGraph` from a graph name, a YAML path, a mapping or a GraphSpec object."""
    if isinstance(graph, SimGraph):
        return graph
    if isinstance(graph, (str, Path)):
        raw, source = _read_named(str(graph))
    elif isinstance(graph, Mapping):
        raw, source = dict(graph), "<mapping>"
    else:
        raw, source = _spec_object_to_dict(graph), f"<{type(graph).__name__}>"
    if not isinstance(raw, Mapping):
        raise GraphSpecError(f"graph {source}: expected a mapping at top level")
    name = str(raw.get("name") or Path(source).stem)
    where = f"graph {name!r} ({source})"
    nodes: dict[str, SimNode] = {}
    for i, nd in enumerate(raw.get("nodes") or []):
        if isinstance(nd, str):
            nd = {"name": nd}
        if "name" not in nd:
            raise GraphSpecError(f"{where}: node #{i} has no name")
        nm = str(nd["name"])
        if nm in nodes:
            raise GraphSpecError(f"{where}: duplicate node {nm!r}")
        states = nd.get("states")
        if states is None:
            card = nd.get("cardinality", 2)
            states = list(range(int(card)))
        states = list(states)
        if len(states) < 2:
            raise GraphSpecError(f"{where}: node {nm!r} needs at least 2 states, has {states}")
        nodes[nm] = SimNode(nm, states, nd.get("role"), bool(nd.get("latent", False)),
                            str(nd.get("description") or ""))
    if not nodes:
        raise GraphSpecError(f"{where}: no nodes")
    edges = []
    for e in raw.get("edges") or []:
        if isinstance(e, Mapping):
            e = (e.get("from", e.get("source")), e.get("to", e.get("target")))
        if len(e) != 2:
            raise GraphSpecError(f"{where}: edge {e!r} is not a pair [from, to]")
        a, b = str(e[0]), str(e[1])
        for x in (a, b):
            if x not in nodes:
                raise GraphSpecError(f"{where}: edge [{a}, {b}] names unknown node {x!r} "
                                     f"(nodes: {list(nodes)})")
        edges.append((a, b))
    for key in ("treatment", "outcome"):
        if not raw.get(key):
            raise GraphSpecError(f"{where}: no {key} declared")
        if raw[key] not in nodes:
            raise GraphSpecError(f"{where}: {key} {raw[key]!r} is not a node ({list(nodes)})")
    g = SimGraph(name=name, source=source, nodes=nodes, edges=edges,
                 treatment=str(raw["treatment"]), outcome=str(raw["outcome"]),
                 mechanisms=dict(raw.get("mechanisms") or {}),
                 description=str(raw.get("description") or ""))
    check_simulable(g)
    return g


def check_simulable(g: SimGraph) -> None:
    """Raise :class:`GraphSpecError` when the simulator cannot generate graph ``g``."""
    where = f"graph {g.name!r} ({g.source})"
    t = g.nodes[g.treatment]
    if t.n_states != 2:
        raise GraphSpecError(f"{where}: the treatment {t.name!r} must be binary, has states "
                             f"{t.states}")
    for r in g.roots():
        if r == g.treatment:
            continue
        if r not in ROOT_GENERATORS:
            raise GraphSpecError(
                f"{where}: the simulator has no generator for root node {r!r}; root nodes must "
                f"be one of {sorted(ROOT_GENERATORS)} (or the treatment). Give {r!r} a parent "
                f"in the graph or rename it.")
