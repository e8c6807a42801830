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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from pgmpy.base import DAG
    from pgmpy.models import DiscreteBayesianNetwork

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

_TOP_KEYS = {"name", "description", "treatment", "outcome", "mediator", "nodes", "edges",
             "mechanisms"}
_NODE_KEYS = {"name", "states", "cardinality", "role", "latent", "description"}


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


class PgmpyGraph(NamedTuple):
    """What :meth:`GraphSpec.to_pgmpy` returns: an unparameterised network and a DAG whose
    pgmpy roles (``exposures``, ``outcomes``, ``latents`` and the spec's own roles) are set."""

    bn: DiscreteBayesianNetwork
    dag: DAG


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
    #: the simulator's settings for this graph (``causalrec.sim.world`` options)
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

    def parents(self, name: str) -> list[str]:
        self[name]
        return [u for u, v in self.edges if v == name]

    def children(self, name: str) -> list[str]:
        self[name]
        return [v for u, v in self.edges if u == name]

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
        src = self.source
        seen: set[str] = set()
        for n in self.nodes:
            if not isinstance(n.name, str) or not n.name:
                raise GraphValidationError(f"{src}: a node has no valid name ({n.name!r})")
            if n.name in seen:
                raise GraphValidationError(f"{src}: node {n.name!r} is declared twice")
            seen.add(n.name)
            if len(n.states) < 1:
                raise GraphValidationError(f"{src}: node {n.name!r} has no states")
            if len(set(n.states)) != len(n.states):
                raise GraphValidationError(
                    f"{src}: node {n.name!r} has repeated states {list(n.states)}")
            if n.role not in ROLES:
                raise GraphValidationError(
                    f"{src}: node {n.name!r} has unknown role {n.role!r} (roles: {ROLES})")
        for i, edge in enumerate(self.edges):
            if len(edge) != 2:
                raise GraphValidationError(f"{src}: edge #{i} {list(edge)} is not a pair")
            for end in edge:
                if end not in seen:
                    raise GraphValidationError(
                        f"{src}: edge #{i} {edge[0]} -> {edge[1]} names unknown node {end!r} "
                        f"(nodes: {', '.join(self.node_names)})")
            if edge[0] == edge[1]:
                raise GraphValidationError(f"{src}: node {edge[0]!r} has a self-loop")
        cycle = _find_cycle(self.node_names, self.edges)
        if cycle:
            path = " -> ".join([*cycle, cycle[0]])
            raise GraphValidationError(
                f"{src}: graph {self.name!r} has a cycle at node {cycle[0]!r}: {path}")
        for key in ("treatment", "outcome", "mediator"):
            value = getattr(self, key)
            if value is None:
                if require_roles and key != "mediator":
                    raise GraphValidationError(f"{src}: graph {self.name!r} declares no {key}")
                continue
            if value not in seen:
                raise GraphValidationError(
                    f"{src}: {key} {value!r} is not a node (nodes: {', '.join(self.node_names)})")
        if self.treatment is not None and self.treatment == self.outcome:
            raise GraphValidationError(
                f"{src}: node {self.treatment!r} is both the treatment and the outcome")
        for n in self.nodes:
            if n.role == "treatment" and n.name != self.treatment:
                raise GraphValidationError(
                    f"{src}: node {n.name!r} has role 'treatment' but the treatment is "
                    f"{self.treatment!r}")
            if n.role == "outcome" and n.name != self.outcome:
                raise GraphValidationError(
                    f"{src}: node {n.name!r} has role 'outcome' but the outcome is "
                    f"{self.outcome!r}")
        return self

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_dict(cls, data: Mapping, *, source: str = "<mapping>") -> GraphSpec:
        """Build and validate a spec from a parsed YAML mapping."""
        if not isinstance(data, Mapping):
            raise GraphValidationError(f"{source}: a graph spec must be a mapping, "
                                       f"got {type(data).__name__}")
        data = {k: v for k, v in data.items() if not str(k).startswith("_")}
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise GraphValidationError(f"{source}: unknown key(s) {sorted(unknown)} "
                                       f"(allowed: {sorted(_TOP_KEYS)})")
        for key in ("name", "nodes", "edges"):
            if key not in data:
                raise GraphValidationError(f"{source}: missing key {key!r}")
        for key in ("treatment", "outcome"):
            if data.get(key) is None:
                raise GraphValidationError(
                    f"{source}: graph {data.get('name')!r} declares no {key} (key {key!r})")
        raw_nodes = data["nodes"]
        if not isinstance(raw_nodes, Sequence) or isinstance(raw_nodes, str):
            raise GraphValidationError(f"{source}: 'nodes' must be a list")
        nodes = [_node_from_dict(raw, i, source) for i, raw in enumerate(raw_nodes)]
        raw_edges = data["edges"] or []
        edges = []
        for i, e in enumerate(raw_edges):
            if not isinstance(e, Sequence) or isinstance(e, str) or len(e) != 2:
                raise GraphValidationError(f"{source}: edge #{i} {e!r} must be a pair [from, to]")
            edges.append((str(e[0]), str(e[1])))
        spec = cls(name=str(data["name"]), nodes=tuple(nodes), edges=tuple(edges),
                   treatment=data["treatment"], outcome=data["outcome"],
                   mediator=data.get("mediator"), description=str(data.get("description", "")),
                   source=source, mechanisms=dict(data.get("mechanisms") or {}))
        return spec.validate()

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


def _node_from_dict(raw: Any, i: int, source: str) -> Node:
    if not isinstance(raw, Mapping):
        raise GraphValidationError(f"{source}: node #{i} must be a mapping, got {raw!r}")
    name = raw.get("name")
    where = f"{source}: node {name!r}" if name else f"{source}: node #{i}"
    if not name:
        raise GraphValidationError(f"{where} has no name")
    unknown = set(raw) - _NODE_KEYS
    if unknown:
        raise GraphValidationError(f"{where}: unknown key(s) {sorted(unknown)} "
                                   f"(allowed: {sorted(_NODE_KEYS)})")
    states = raw.get("states")
    card = raw.get("cardinality")
    if states is None and card is None:
        raise GraphValidationError(f"{where}: give 'states' or 'cardinality'")
    if states is None:
        if not isinstance(card, int) or isinstance(card, bool) or card < 1:
            raise GraphValidationError(f"{where}: cardinality must be a positive int, got {card!r}")
        states = list(range(card))
    if not isinstance(states, Sequence) or isinstance(states, str):
        raise GraphValidationError(f"{where}: 'states' must be a list, got {states!r}")
    if card is not None and card != len(states):
        raise GraphValidationError(
            f"{where}: cardinality {card} does not match {len(states)} states {list(states)}")
    latent = raw.get("latent", False)
    if not isinstance(latent, bool):
        raise GraphValidationError(f"{where}: 'latent' must be true or false, got {latent!r}")
    role = raw.get("role", "latent" if latent else "covariate")
    return Node(name=str(name), states=tuple(states), role=str(role), latent=latent,
                description=str(raw.get("description", "")))


def _find_cycle(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """One directed cycle as a node list, or None (iterative DFS, white/grey/black)."""
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in edges:
        children.setdefault(u, []).append(v)
        children.setdefault(v, [])
    colour = dict.fromkeys(children, 0)
    for root in children:
        if colour[root]:
            continue
        stack = [(root, iter(children[root]))]
        path = [root]
        colour[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour[nxt] == 1:
                return path[path.index(nxt):]
            elif colour[nxt] == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(children[nxt])))
                path.append(nxt)
    return None


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
    text_source: str
    path = Path(name_or_path)
    looks_like_path = path.suffix in (".yaml", ".yml") or len(path.parts) > 1
    if looks_like_path:
        if not path.is_file():
            raise FileNotFoundError(f"graph spec file {str(path)!r} does not exist")
        text, text_source = path.read_text(encoding="utf-8"), str(path)
    else:
        res = importlib.resources.files("causalrec.conf").joinpath("graph", f"{name_or_path}.yaml")
        if not res.is_file():
            raise FileNotFoundError(
                f"no graph named {str(name_or_path)!r} in conf/graph; available: "
                f"{', '.join(available_graphs())} (or pass a path to a YAML file)")
        text, text_source = res.read_text(encoding="utf-8"), f"conf/graph/{name_or_path}.yaml"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GraphValidationError(f"{text_source}: not valid YAML: {exc}") from exc
    return GraphSpec.from_dict(data, source=text_source)
