"""Declared causal graphs: :class:`GraphSpec`, loaded from ``conf/graph/*.yaml``.

A graph spec is the single source of truth of a study (DESIGN.md): nodes with their discrete
states, a causal role (treatment, outcome, mediator, confounder, ...) and whether they are
latent, plus the directed edges. :func:`load_graph` reads one from the packaged configs (by
name), from a path, or from a mapping (e.g. a composed Hydra config), and validates it; every
error names the file and the node at fault.

The graph semantics are Pearl's causal DAGs (Pearl, *Causality*, 2nd ed., 2009, ch. 1 and 3).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pgmpy.base
    import pgmpy.models

ROLES = (
    "treatment",
    "outcome",
    "mediator",
    "confounder",
    "latent",
    "instrument",
    "proxy",
    "covariate",
)
"""Roles a node may declare. ``treatment``/``outcome`` must agree with the spec's
``treatment``/``outcome`` keys."""

class GraphValidationError(ValueError):
    """A graph spec (or data checked against it) is invalid; the message names file and node."""


@dataclass(frozen=True)
class Node:
    """One variable of a causal graph: its discrete states, role and whether it is latent."""

    name: str
    states: tuple
    role: str = "covariate"
    latent: bool = False
    description: str = ""

    @property
    def cardinality(self) -> int:
        return len(self.states)

    def numeric_states(self):
        """State values as floats when they all are numbers, else the indices ``0..n-1``."""
        import numpy as np

        try:
            return np.asarray([float(s) for s in self.states])
        except (TypeError, ValueError):
            return np.arange(self.cardinality, dtype=float)


class PgmpyGraph(NamedTuple):
    """What :meth:`GraphSpec.to_pgmpy` returns: an unparameterised network and a DAG whose
    pgmpy roles (``exposures``, ``outcomes``, ``latents`` and the spec's own roles) are set."""

    # full names: pgmpy is imported only for type checking, so documentation tools read the
    # annotations as text
    bn: pgmpy.models.DiscreteBayesianNetwork
    dag: pgmpy.base.DAG


@dataclass(frozen=True)
class GraphSpec:
    """A declared causal graph. Build with :func:`load_graph` (validated) or directly."""

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    treatment: str | None = None
    outcome: str | None = None
    mediator: str | None = None
    description: str = ""
    source: str = "<spec>"
    #: the simulator's settings for this graph (``causalrec.sim.simulate`` options)
    mechanisms: dict = field(default_factory=dict, compare=False)
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {n.name: n for n in self.nodes})

    # ------------------------------------------------------------------ access
    def __getitem__(self, name: str) -> Node:
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"{self.source}: graph {self.name!r} has no node {name!r} "
                           f"(nodes: {', '.join(self.node_names)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def node_names(self) -> list[str]:
        return [n.name for n in self.nodes]

    @property
    def latents(self) -> list[str]:
        return [n.name for n in self.nodes if n.latent]

    @property
    def observed(self) -> list[str]:
        return [n.name for n in self.nodes if not n.latent]

    @property
    def states(self) -> dict[str, list]:
        return {n.name: list(n.states) for n in self.nodes}

    # ------------------------------------------------------------------ structure
    def parents(self, name: str) -> list[str]:
        self[name]
        return [u for u, v in self.edges if v == name]

    def children(self, name: str) -> list[str]:
        self[name]
        return [v for u, v in self.edges if u == name]

    def has_edge(self, source: str, target: str) -> bool:
        return (source, target) in self.edges

    def ancestors(self, name: str) -> set[str]:
        """Every node with a directed path into ``name`` (``name`` itself excluded)."""
        return self._reachable(name, self.parents)

    def descendants(self, name: str) -> set[str]:
        """Every node reachable from ``name`` by a directed path (``name`` excluded)."""
        return self._reachable(name, self.children)

    @staticmethod
    def _reachable(name: str, step) -> set[str]:
        out, todo = set(), [name]
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in out:
                    out.add(nxt)
                    todo.append(nxt)
        return out

    @property
    def order(self) -> list[str]:
        """The node names in a topological order (Kahn's algorithm, ties broken by declaration
        order; the simulator draws its random numbers in this order, so it is part of the
        contract)."""
        return list(self._order)

    @cached_property
    def _order(self) -> tuple[str, ...]:
        indeg = dict.fromkeys(self.node_names, 0)
        for _, v in self.edges:
            indeg[v] += 1
        order: list[str] = []
        ready = [n for n in self.node_names if indeg[n] == 0]
        while ready:
            n = ready.pop(0)
            order.append(n)
            for c in self.children(n):
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        if len(order) < len(self.nodes):
            from .spec_parsing import find_cycle

            cycle = find_cycle(self.node_names, self.edges) or []
            raise GraphValidationError(
                f"{self.source}: graph {self.name!r} has a cycle among nodes "
                f"{[n for n in self.node_names if n not in order]} ({' -> '.join(cycle)})")
        return tuple(order)

    @property
    def roots(self) -> list[str]:
        """Nodes without parents, in topological order."""
        return [n for n in self.order if not self.parents(n)]

    def with_role(self, role: str) -> list[str]:
        return [n.name for n in self.nodes if n.role == role]

    def to_networkx(self):
        import networkx as nx

        g = nx.DiGraph()
        for n in self.nodes:
            g.add_node(n.name, role=n.role, latent=n.latent, states=list(n.states))
        g.add_edges_from(self.edges)
        return g

    # ------------------------------------------------------------------ pgmpy
    def to_pgmpy(self) -> PgmpyGraph:
        """An unparameterised :class:`~pgmpy.models.DiscreteBayesianNetwork` (latent nodes
        flagged) and a role-annotated :class:`~pgmpy.base.DAG` (pgmpy's ``exposures`` and
        ``outcomes`` roles from the spec's treatment/outcome, plus one role per declared
        node role, e.g. ``mediator``, ``confounder``)."""
        from pgmpy.base import DAG
        from pgmpy.models import DiscreteBayesianNetwork

        latents = set(self.latents)
        bn = DiscreteBayesianNetwork(list(self.edges), latents=latents)
        bn.add_nodes_from(self.node_names)
        roles: dict[str, list[str]] = {}
        if self.treatment is not None:
            roles["exposures"] = [self.treatment]
        if self.outcome is not None:
            roles["outcomes"] = [self.outcome]
        for n in self.nodes:
            if n.role not in ("treatment", "outcome"):
                roles.setdefault(n.role, []).append(n.name)
        dag = DAG(list(self.edges), latents=latents)
        dag.add_nodes_from(self.node_names)
        for role, names in roles.items():
            dag = dag.with_role(role, names, inplace=False)
        return PgmpyGraph(bn, dag)

    # ------------------------------------------------------------------ data
    def check_data(self, df: pd.DataFrame, *, require_latents: bool = False,
                   max_rows: int = 5) -> None:
        """Check that ``df`` has a column per observed node (and per latent node when
        ``require_latents``) whose values are all declared states. Raises
        :class:`GraphValidationError` naming the node, the bad values and example rows."""
        need = self.node_names if require_latents else self.observed
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise GraphValidationError(
                f"{self.source}: graph {self.name!r}: data has no column for node(s) "
                f"{missing} (columns: {list(df.columns)})")
        for name in need:
            node = self[name]
            col = df[name]
            if col.isna().any():
                rows = df.index[col.isna().to_numpy()][:max_rows].tolist()
                raise GraphValidationError(
                    f"{self.source}: node {name!r}: data has missing values (rows {rows})")
            allowed = set(node.states)
            bad_mask = ~col.isin(list(allowed))
            if bad_mask.any():
                bad_vals = sorted({repr(v) for v in col[bad_mask].unique().tolist()})[:10]
                rows = df.index[bad_mask.to_numpy()][:max_rows].tolist()
                raise GraphValidationError(
                    f"{self.source}: node {name!r}: data values {', '.join(bad_vals)} are not "
                    f"among the declared states {list(node.states)} (rows {rows})")

    # ------------------------------------------------------------------ edits
    def replace_node(self, name: str, **changes: Any) -> GraphSpec:
        """A copy with node ``name`` changed (e.g. ``latent=False``, ``states=...``); a
        ``new_name`` rewires every edge and the treatment/outcome/mediator keys."""
        new_name = changes.pop("new_name", name)
        node = self[name]
        if "states" in changes:
            changes["states"] = tuple(changes["states"])
        new_node = replace(node, name=new_name, **changes)
        nodes = tuple(new_node if n.name == name else n for n in self.nodes)

        def ren(x):
            return new_name if x == name else x

        spec = replace(self, nodes=nodes, edges=tuple((ren(u), ren(v)) for u, v in self.edges),
                       treatment=ren(self.treatment), outcome=ren(self.outcome),
                       mediator=ren(self.mediator))
        spec.validate(require_roles=False)
        return spec

    # ------------------------------------------------------------------ checks
    def validate(self, *, require_roles: bool = True) -> GraphSpec:
        """Raise :class:`GraphValidationError` on duplicate or unknown nodes, bad states,
        unknown roles, cycles, or a missing treatment/outcome; return ``self``."""
        from .spec_parsing import validate_spec

        return validate_spec(self, require_roles=require_roles)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_dict(cls, data: Mapping, *, source: str = "<mapping>") -> GraphSpec:
        """Build and validate a spec from a parsed YAML mapping (every key type-checked by
        ``causalrec.graphs.spec_parsing.spec_from_mapping``)."""
        from .spec_parsing import spec_from_mapping

        return spec_from_mapping(data, source)

    @classmethod
    def from_config(cls, **fields: Any) -> GraphSpec:
        """Hydra ``_target_`` of ``conf/graph/*.yaml``: ``instantiate(cfg.graph)``."""
        try:
            from omegaconf import DictConfig, ListConfig, OmegaConf

            fields = {k: (OmegaConf.to_container(v, resolve=True)
                          if isinstance(v, DictConfig | ListConfig) else v)
                      for k, v in fields.items()}
        except ImportError:  # pragma: no cover
            pass
        return cls.from_dict(fields, source=f"<config graph {fields.get('name')!r}>")

    def to_dict(self) -> dict:
        """The YAML mapping of this spec (round-trips through :meth:`from_dict`)."""
        out: dict[str, Any] = {"name": self.name, "description": self.description,
                               "treatment": self.treatment, "outcome": self.outcome}
        if self.mediator is not None:
            out["mediator"] = self.mediator
        out["nodes"] = [{"name": n.name, "states": list(n.states), "role": n.role,
                         "latent": n.latent, "description": n.description}
                        for n in self.nodes]
        out["edges"] = [list(e) for e in self.edges]
        if self.mechanisms:
            out["mechanisms"] = dict(self.mechanisms)
        return out


def available_graphs() -> list[str]:
    """Names of the graph specs shipped in ``conf/graph`` (package ``causalrec.conf``)."""
    root = importlib.resources.files("causalrec.conf").joinpath("graph")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def load_graph(name_or_path: str | Path | Mapping | GraphSpec) -> GraphSpec:
    """Load and validate a graph spec.

    ``name_or_path`` is a name shipped in ``conf/graph`` (``"intent_confounding"``), a path
    to a YAML file, a mapping (a parsed YAML or a composed Hydra ``cfg.graph``), or a
    :class:`GraphSpec` (returned as is). Raises :class:`GraphValidationError` naming the file
    and node at fault, or :class:`FileNotFoundError` listing the shipped names.
    """
    if isinstance(name_or_path, GraphSpec):
        return name_or_path
    if isinstance(name_or_path, Mapping) or type(name_or_path).__name__ == "DictConfig":
        try:
            from omegaconf import DictConfig, OmegaConf

            if isinstance(name_or_path, DictConfig):
                name_or_path = OmegaConf.to_container(name_or_path, resolve=True)
        except ImportError:  # pragma: no cover
            pass
        return GraphSpec.from_dict(name_or_path, source="<mapping>")
    from .spec_parsing import MAX_YAML_BYTES, graph_from_yaml

    path = Path(name_or_path)
    looks_like_path = path.suffix in (".yaml", ".yml") or len(path.parts) > 1
    if looks_like_path:
        if not path.is_file():
            raise FileNotFoundError(f"graph spec file {str(path)!r} does not exist")
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise GraphValidationError(f"{path}: graph YAML is {size:,} bytes, over the limit "
                                       f"of {MAX_YAML_BYTES:,}")
        return graph_from_yaml(path.read_bytes(), str(path))
    res = importlib.resources.files("causalrec.conf").joinpath("graph", f"{name_or_path}.yaml")
    if not res.is_file():
        raise FileNotFoundError(
            f"no graph named {str(name_or_path)!r} in conf/graph; available: "
            f"{', '.join(available_graphs())} (or pass a path to a YAML file)")
    return graph_from_yaml(res.read_bytes(), f"conf/graph/{name_or_path}.yaml")
