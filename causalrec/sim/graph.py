"""Read a declared causal graph for the simulator and check that the simulator can honour it.

The simulator (:mod:`causalrec.sim.world`) generates one row per (user, item) pair from a
structural causal model whose variables are the graph's nodes and whose parents are exactly
the graph's parents. The graph is a :class:`causalrec.graphs.GraphSpec` - the one graph type
of causalrec - loaded by :func:`causalrec.graphs.load_graph` from a name in ``conf/graph/``, a
YAML path, a mapping or a spec; this module adds only what the simulator itself needs: a
generator for every root node and a binary treatment (:func:`check_simulable`). Every
refusal is a :class:`~causalrec.graphs.GraphValidationError` naming the graph and the node.
"""

from __future__ import annotations

from pathlib import Path

from ..graphs.spec import GraphSpec, GraphValidationError, load_graph

#: root nodes the simulator knows how to generate, and what they mean (see world.py)
ROOT_GENERATORS = {
    "intent": "the user's latent intent: the dominant topic of the user's interest mixture",
    "popularity": "the item's popularity level: Zipf popularity binned into equal-mass levels",
    "conformity": "the item's popularity level (DICE's conformity cause), as 'popularity'",
    "interest": "the user-item interest level: the user's mixture weight on the item's topic, "
                "binned into equal-count levels",
}


def read_graph(graph) -> GraphSpec:
    """The validated :class:`~causalrec.graphs.GraphSpec` of a graph name, YAML path, mapping
    or spec, checked for the simulator (:func:`check_simulable`). A missing file or name is a
    :class:`~causalrec.graphs.GraphValidationError` too, so a caller catches one error type.

    Example:
        >>> from causalrec.sim import read_graph
        >>> g = read_graph("popularity_bias")
        >>> g.treatment, g.outcome, g.order   # the order the simulator draws nodes in
        ('exposure', 'click', ['popularity', 'intent', 'exposure', 'click'])
        >>> read_graph({"name": "three_arms", "treatment": "dose", "outcome": "buy",
        ...             "nodes": [{"name": "dose", "states": [0, 1, 2], "role": "treatment"},
        ...                       {"name": "buy", "states": [0, 1], "role": "outcome"}],
        ...             "edges": [["dose", "buy"]]})
        Traceback (most recent call last):
        ...
        causalrec.graphs.spec.GraphValidationError: graph 'three_arms' (<mapping>): the treatment 'dose' must be binary, has states [0, 1, 2]
    """
    try:
        spec = load_graph(str(graph) if isinstance(graph, Path) else graph)
    except FileNotFoundError as exc:
        raise GraphValidationError(str(exc)) from exc
    check_simulable(spec)
    return spec


def check_simulable(g: GraphSpec) -> None:
    """Raise :class:`~causalrec.graphs.GraphValidationError` when the simulator cannot
    generate graph ``g``."""
    where = f"graph {g.name!r} ({g.source})"
    t = g[g.treatment]
    if t.cardinality != 2:
        raise GraphValidationError(f"{where}: the treatment {t.name!r} must be binary, has "
                                   f"states {list(t.states)}")
    for r in g.roots:
        if r == g.treatment:
            continue
        if r not in ROOT_GENERATORS:
            raise GraphValidationError(
                f"{where}: the simulator has no generator for root node {r!r}; root nodes must "
                f"be one of {sorted(ROOT_GENERATORS)} (or the treatment). Give {r!r} a parent "
                f"in the graph or rename it.")
    for name in g.node_names:
        if g[name].cardinality < 2:
            raise GraphValidationError(f"{where}: node {name!r} has {g[name].cardinality} "
                                       f"state; the simulator needs at least 2")
