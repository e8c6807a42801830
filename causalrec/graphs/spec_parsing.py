"""Reading a graph spec from YAML text or a mapping, refusing anything malformed.

Every problem is a :class:`~causalrec.graphs.spec.GraphValidationError` naming the source, the
key and the offending value: a wrong type anywhere (``edges: 5``, states or a treatment given
as a list of lists), an unknown or a repeated key (a second ``edges:`` block is refused, not
silently taken), text over :data:`MAX_YAML_BYTES`, or YAML whose aliases would expand past
:data:`MAX_YAML_NODES` nodes (the "billion laughs" alias bomb is caught while the document is
composed, before anything is built from it). Only ``yaml.SafeLoader`` constructs are allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from .spec import ROLES, GraphValidationError, Node

if TYPE_CHECKING:  # pragma: no cover
    from .spec import GraphSpec

#: largest graph YAML read, in bytes (the shipped graphs are ~2 KB)
MAX_YAML_BYTES = 1_000_000
#: most YAML nodes a document may have once its aliases are expanded
MAX_YAML_NODES = 100_000

TOP_KEYS = ("name", "description", "treatment", "outcome", "mediator", "nodes", "edges",
            "mechanisms")
NODE_KEYS = ("name", "states", "cardinality", "role", "latent", "description")
_SCALARS = (str, int, float, bool)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ============================================================================ YAML
class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys and alias-expanded documents over
    :data:`MAX_YAML_NODES` nodes."""

    def compose_document(self):
        node = super().compose_document()
        _expanded_size(node, {}, set())
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {key!r} (first at line {seen[key] + 1}); a "
                        f"repeated key would silently replace the first", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node, memo: dict, active: set) -> int:
    """Nodes of ``node`` with every alias expanded (memoised: linear in the composed size)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise yaml.YAMLError("a recursive alias (a node that contains itself)")
    active.add(key)
    if isinstance(node, yaml.SequenceNode):
        kids = node.value
    elif isinstance(node, yaml.MappingNode):
        kids = [x for pair in node.value for x in pair]
    else:
        kids = []
    total = 1
    for kid in kids:
        total += _expanded_size(kid, memo, active)
        if total > MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"the document expands to more than {MAX_YAML_NODES:,} nodes (an alias bomb?): "
                f"graph specs need no such aliases")
    active.discard(key)
    memo[key] = total
    return total


def graph_from_yaml(text: str | bytes, source: str = "<yaml>") -> GraphSpec:
    """Parse and validate a graph spec from YAML ``text`` (see the module docstring)."""
    if isinstance(text, bytes):
        if len(text) > MAX_YAML_BYTES:
            raise GraphValidationError(f"{source}: graph YAML is {len(text):,} bytes, over the "
                                       f"limit of {MAX_YAML_BYTES:,}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GraphValidationError(f"{source}: not UTF-8 text ({exc})") from None
    if len(text) > MAX_YAML_BYTES:
        raise GraphValidationError(f"{source}: graph YAML is {len(text):,} characters, over the "
                                   f"limit of {MAX_YAML_BYTES:,}")
    try:
        data = yaml.load(text, Loader=_LimitedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise GraphValidationError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise GraphValidationError(f"{source}: not valid YAML: nested too deeply") from None
    return spec_from_mapping(data, source)


# ============================================================================ mappings
def spec_from_mapping(data: Any, source: str = "<mapping>") -> GraphSpec:
    """Check the types of a parsed spec, build the :class:`GraphSpec` and validate it."""
    from .spec import GraphSpec

    if not isinstance(data, Mapping):
        raise GraphValidationError(f"{source}: a graph spec must be a mapping, "
                                   f"got {type(data).__name__} {_short(data)}")
    data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    unknown = [k for k in data if k not in TOP_KEYS]
    if unknown:
        raise GraphValidationError(f"{source}: unknown key(s) {sorted(map(str, unknown))} "
                                   f"(allowed: {sorted(TOP_KEYS)})")
    for key in ("name", "nodes", "edges"):
        if key not in data:
            raise GraphValidationError(f"{source}: missing key {key!r}")
    name = data["name"]
    if not isinstance(name, str | int) or isinstance(name, bool) or name == "":
        raise GraphValidationError(f"{source}: key 'name' must be a non-empty string, "
                                   f"got {_short(name)}")
    for key in ("treatment", "outcome"):
        if data.get(key) is None:
            raise GraphValidationError(
                f"{source}: graph {name!r} declares no {key} (key {key!r})")
    for key in ("treatment", "outcome", "mediator"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise GraphValidationError(f"{source}: key {key!r} must be a node name (a string), "
                                       f"got {_short(value)}")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise GraphValidationError(f"{source}: key 'description' must be a string, got "
                                   f"{type(description).__name__} {_short(description)}")
    raw_nodes = data["nodes"]
    if not isinstance(raw_nodes, Sequence) or isinstance(raw_nodes, str):
        raise GraphValidationError(f"{source}: key 'nodes' must be a list of node mappings, "
                                   f"got {_short(raw_nodes)}")
    nodes = [_node_from_mapping(raw, i, source) for i, raw in enumerate(raw_nodes)]
    raw_edges = data["edges"] if data["edges"] is not None else []
    if not isinstance(raw_edges, Sequence) or isinstance(raw_edges, str):
        raise GraphValidationError(f"{source}: key 'edges' must be a list of [from, to] pairs, "
                                   f"got {_short(raw_edges)}")
    edges = []
    for i, e in enumerate(raw_edges):
        if (not isinstance(e, Sequence) or isinstance(e, str) or len(e) != 2
                or not all(isinstance(x, str) for x in e)):
            raise GraphValidationError(f"{source}: key 'edges': edge #{i} {_short(e)} must be "
                                       f"a pair [from, to] of node names")
        edges.append((str(e[0]), str(e[1])))
    mechanisms = data.get("mechanisms")
    if mechanisms is not None and not isinstance(mechanisms, Mapping):
        raise GraphValidationError(f"{source}: key 'mechanisms' must be a mapping of simulator "
                                   f"options, got {_short(mechanisms)}")
    spec = GraphSpec(name=str(name), nodes=tuple(nodes), edges=tuple(edges),
                     treatment=data["treatment"], outcome=data["outcome"],
                     mediator=data.get("mediator"), description=description or "",
                     source=source, mechanisms=dict(mechanisms or {}))
    return spec.validate()


def _node_from_mapping(raw: Any, i: int, source: str) -> Node:
    if not isinstance(raw, Mapping):
        raise GraphValidationError(f"{source}: key 'nodes': node #{i} must be a mapping, "
                                   f"got {_short(raw)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise GraphValidationError(f"{source}: key 'nodes': node #{i} needs a 'name' that is a "
                                   f"non-empty string, got {_short(name)}")
    where = f"{source}: node {name!r}"
    unknown = [k for k in raw if k not in NODE_KEYS]
    if unknown:
        raise GraphValidationError(f"{where}: unknown key(s) {sorted(map(str, unknown))} "
                                   f"(allowed: {sorted(NODE_KEYS)})")
    states = raw.get("states")
    card = raw.get("cardinality")
    if states is None and card is None:
        raise GraphValidationError(f"{where}: give 'states' or 'cardinality'")
    if card is not None and (not isinstance(card, int) or isinstance(card, bool) or card < 1):
        raise GraphValidationError(f"{where}: cardinality must be a positive int, got "
                                   f"{_short(card)}")
    if states is None:
        states = list(range(card))
    if not isinstance(states, Sequence) or isinstance(states, str):
        raise GraphValidationError(f"{where}: 'states' must be a list, got {_short(states)}")
    bad = [s for s in states if not isinstance(s, _SCALARS)]
    if bad:
        raise GraphValidationError(f"{where}: 'states' must be a list of single values "
                                   f"(strings or numbers), got {_short(bad[0])} in "
                                   f"{_short(list(states))}")
    if card is not None and card != len(states):
        raise GraphValidationError(
            f"{where}: cardinality {card} does not match {len(states)} states {list(states)}")
    latent = raw.get("latent", False)
    if not isinstance(latent, bool):
        raise GraphValidationError(f"{where}: 'latent' must be true or false, got "
                                   f"{_short(latent)}")
    role = raw.get("role", "latent" if latent else "covariate")
    if not isinstance(role, str):
        raise GraphValidationError(f"{where}: 'role' must be a string, got {_short(role)}")
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        raise GraphValidationError(f"{where}: 'description' must be a string, got "
                                   f"{_short(description)}")
    return Node(name=name, states=tuple(states), role=role, latent=latent,
                description=description or "")


# ============================================================================ checks
def validate_spec(spec: GraphSpec, *, require_roles: bool = True) -> GraphSpec:
    """Raise :class:`GraphValidationError` on duplicate or unknown nodes, bad states,
    unknown roles, cycles, or a missing treatment/outcome; return ``spec``."""
    src = spec.source
    seen: set[str] = set()
    for n in spec.nodes:
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
    for i, edge in enumerate(spec.edges):
        if len(edge) != 2:
            raise GraphValidationError(f"{src}: edge #{i} {list(edge)} is not a pair")
        for end in edge:
            if end not in seen:
                raise GraphValidationError(
                    f"{src}: edge #{i} {edge[0]} -> {edge[1]} names unknown node {end!r} "
                    f"(nodes: {', '.join(spec.node_names)})")
        if edge[0] == edge[1]:
            raise GraphValidationError(f"{src}: node {edge[0]!r} has a self-loop")
    cycle = find_cycle(spec.node_names, spec.edges)
    if cycle:
        path = " -> ".join([*cycle, cycle[0]])
        raise GraphValidationError(
            f"{src}: graph {spec.name!r} has a cycle at node {cycle[0]!r}: {path}")
    for key in ("treatment", "outcome", "mediator"):
        value = getattr(spec, key)
        if value is None:
            if require_roles and key != "mediator":
                raise GraphValidationError(f"{src}: graph {spec.name!r} declares no {key}")
            continue
        if value not in seen:
            raise GraphValidationError(
                f"{src}: {key} {value!r} is not a node (nodes: {', '.join(spec.node_names)})")
    if spec.treatment is not None and spec.treatment == spec.outcome:
        raise GraphValidationError(
            f"{src}: node {spec.treatment!r} is both the treatment and the outcome")
    for n in spec.nodes:
        if n.role == "treatment" and n.name != spec.treatment:
            raise GraphValidationError(
                f"{src}: node {n.name!r} has role 'treatment' but the treatment is "
                f"{spec.treatment!r}")
        if n.role == "outcome" and n.name != spec.outcome:
            raise GraphValidationError(
                f"{src}: node {n.name!r} has role 'outcome' but the outcome is "
                f"{spec.outcome!r}")
    return spec


def find_cycle(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[str] | None:
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
