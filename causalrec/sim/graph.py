"""Read a declared causal graph for the simulator and check that the simulator can honour it.

The simulator (:mod:`causalrec.sim.world`) generates one row per (user, item) pair from a
structural causal model whose variables are the graph's nodes and whose parents are exactly
the graph's parents. This module turns whatever names a graph (a name in ``conf/graph/``, a
YAML path, a mapping, or a :class:`causalrec.graphs.GraphSpec`) into a plain, validated
:class:`SimGraph`: nodes with their states, edges, treatment and outcome, topological order.

A graph is refused with a message naming the graph and the node or edge when the simulator
cannot generate it: a cycle, an edge to an unknown node, a root node the simulator has no
generator for, a non-binary treatment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
        return self._reachable(node, self.children)

    def ancestors(self, node: str) -> set[str]:
        return self._reachable(node, self.parents)

    @staticmethod
    def _reachable(node: str, step) -> set[str]:
        out, todo = set(), [node]
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in out:
                    out.add(nxt)
                    todo.append(nxt)
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


def read_graph(graph) -> SimGraph:
    """A :class:`SimGraph` from a graph name, a YAML path, a mapping or a GraphSpec.

    Parsing and validation (cycles, unknown or duplicate nodes, missing treatment/outcome)
    are :func:`causalrec.graphs.load_graph`'s, so the simulator and the graph layer read
    one declared graph the same way; this adds only what the simulator itself needs
    (:func:`check_simulable`).
    """
    from ..graphs.spec import GraphValidationError, load_graph

    if isinstance(graph, SimGraph):
        return graph
    try:
        spec = load_graph(str(graph) if isinstance(graph, Path) else graph)
    except (GraphValidationError, FileNotFoundError) as exc:
        raise GraphSpecError(str(exc)) from exc
    source = spec.source
    name = spec.name or Path(source).stem
    nodes = {n.name: SimNode(n.name, list(n.states), n.role, bool(n.latent), n.description)
             for n in spec.nodes}
    g = SimGraph(name=name, source=source, nodes=nodes, edges=[tuple(e) for e in spec.edges],
                 treatment=str(spec.treatment), outcome=str(spec.outcome),
                 mechanisms=dict(spec.mechanisms), description=spec.description)
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
