"""Identification: is ``P(outcome | do(treatment))`` computable from the observed variables?

:func:`identify` first looks for a backdoor adjustment set (Pearl 1993, "Comment: graphical
models, causality and intervention"; the minimal set of Perkovic et al. 2018, JMLR, via
:class:`pgmpy.identification.Adjustment`), then for a frontdoor set (Pearl 1995,
"Causal diagrams for empirical research"; :class:`pgmpy.identification.Frontdoor`). When
neither exists it falls back to the ID algorithm (Shpitser & Pearl 2006;
:mod:`causalrec.graphs.id_algorithm`), and when that fails too it raises
:class:`NotIdentifiableError` naming a backdoor path that no set of observed variables can
block, e.g. ``exposure <- intent -> click`` with a latent intent, and the hedge.
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import GraphSpec, load_graph


class NotIdentifiableError(ValueError):
    """The causal effect is not identified by the backdoor or frontdoor criterion."""

    def __init__(self, message: str, path: list[str] | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Estimand:
    """An identified causal effect: ``kind`` is ``"backdoor"`` (``adjustment_set``),
    ``"frontdoor"`` (``frontdoor_set``) or ``"id"`` (``expression``, an
    :class:`~causalrec.graphs.id_algorithm.IDEstimand`)."""

    treatment: str
    outcome: str
    kind: str
    adjustment_set: frozenset = frozenset()
    frontdoor_set: frozenset = frozenset()
    expression: object = None

    @property
    def formula(self) -> str:
        x, y = self.treatment, self.outcome
        if self.kind == "id":
            return self.expression.formula
        if self.kind == "backdoor":
            if not self.adjustment_set:
                return f"P({y} | do({x})) = P({y} | {x})"
            z = ", ".join(sorted(self.adjustment_set))
            return f"P({y} | do({x})) = sum_{{{z}}} P({y} | {x}, {z}) P({z})"
        m = ", ".join(sorted(self.frontdoor_set))
        return (f"P({y} | do({x})) = sum_{{{m}}} P({m} | {x}) "
                f"sum_{{{x}'}} P({y} | {x}', {m}) P({x}')")

    def __str__(self) -> str:
        return f"{self.kind}: {self.formula}"


def _roles_dag(spec: GraphSpec, treatment: str, outcome: str):
    from pgmpy.base import DAG

    dag = DAG(list(spec.edges), latents=set(spec.latents))
    dag.add_nodes_from(spec.node_names)
    dag = dag.with_role("exposures", [treatment], inplace=False)
    return dag.with_role("outcomes", [outcome], inplace=False)


def identify(spec: GraphSpec | str, treatment: str | None = None, outcome: str | None = None,
             *, method: str = "auto") -> Estimand:
    """Identify the effect of ``treatment`` on ``outcome`` (defaults: the spec's own).

    ``method``: ``"auto"`` (backdoor, else frontdoor, else the ID algorithm), ``"backdoor"``,
    ``"frontdoor"`` or ``"id"``. Latent nodes are never put in a set. Raises
    :class:`NotIdentifiableError`.

    Example:
        >>> from causalrec.graphs import identify
        >>> print(identify("mediation"))
        backdoor: P(purchase | do(exposure)) = P(purchase | exposure)
        >>> identify("intent_confounding")
        Traceback (most recent call last):
        ...
        causalrec.graphs.identification.NotIdentifiableError: conf/graph/intent_confounding.yaml: the effect of 'exposure' on 'click' is not identifiable ...
    """
    from pgmpy.identification import Adjustment, Frontdoor

    spec = load_graph(spec)
    treatment = treatment or spec.treatment
    outcome = outcome or spec.outcome
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if name not in spec:
            raise KeyError(f"{spec.source}: {role} {name!r} is not a node of {spec.name!r}")
        if spec[name].latent:
            raise NotIdentifiableError(f"{spec.source}: {role} {name!r} is latent")
    if method not in ("auto", "backdoor", "frontdoor", "id"):
        raise ValueError(f"method must be 'auto', 'backdoor', 'frontdoor' or 'id', got "
                         f"{method!r}")
    if method == "id":
        return _by_id(spec, treatment, outcome)
    dag = _roles_dag(spec, treatment, outcome)
    if method in ("auto", "backdoor"):
        try:
            identified, ok = Adjustment(variant="minimal").identify(dag)
        except ValueError:  # pgmpy: treatment and outcome adjacent in the backdoor graph
            ok = False
        if ok:
            adj = frozenset(identified.get_role("adjustment"))
            if adj & set(spec.latents):  # pragma: no cover - pgmpy never returns latents
                ok = False
            else:  # pgmpy's choice among equally small sets follows set iteration order
                adj = _first_minimal_set(spec, treatment, outcome, len(adj)) or adj
                return Estimand(treatment, outcome, "backdoor", adjustment_set=adj)
    if method in ("auto", "frontdoor"):
        identified, ok = Frontdoor().identify(dag)
        if ok:
            graph = identified[0] if isinstance(identified, list) else identified
            return Estimand(treatment, outcome, "frontdoor",
                            frontdoor_set=frozenset(graph.get_role("frontdoor")))
    path = open_backdoor_path(spec, treatment, outcome)
    if path is None and method in ("auto", "backdoor"):
        # every backdoor path is blocked by the observed non-descendants of the treatment,
        # so that set satisfies the backdoor criterion (pgmpy's minimal search missed it)
        return Estimand(treatment, outcome, "backdoor",
                        adjustment_set=frozenset(_non_descendants(spec, treatment, outcome)))
    shown = " ".join(path) if path else "(none found)"
    hedge = ""
    if method == "auto":
        from .id_algorithm import HedgeError

        try:
            return _by_id(spec, treatment, outcome)
        except HedgeError as err:
            hedge = f"; the ID algorithm fails too: {err}"
    raise NotIdentifiableError(
        f"{spec.source}: the effect of {treatment!r} on {outcome!r} is not identifiable "
        f"({'backdoor or frontdoor' if method == 'auto' else method}): the backdoor path "
        f"{shown} stays open whichever observed variables are adjusted for "
        f"(latent: {spec.latents}); observe a proxy for a latent node on it{hedge}", path)


def _by_id(spec: GraphSpec, treatment: str, outcome: str) -> Estimand:
    from .id_algorithm import id_identify

    return Estimand(treatment, outcome, "id", expression=id_identify(spec, outcome, treatment))


def open_backdoor_path(spec: GraphSpec, treatment: str, outcome: str) -> list[str] | None:
    """A backdoor path (first arrow into ``treatment``) that stays d-connected given every
    observed non-descendant of ``treatment``, drawn as ``["x", "<-", "z", "->", "y"]``; None
    when every backdoor path can be blocked. Paths are enumerated on the skeleton
    (networkx); arrows, descendants and colliders are read from the :class:`GraphSpec`."""
    import networkx as nx

    cond = _non_descendants(spec, treatment, outcome)
    skeleton = spec.to_networkx().to_undirected()
    skeleton.remove_edges_from([(treatment, c) for c in spec.children(treatment)])
    best = None
    for path in nx.all_simple_paths(skeleton, treatment, outcome):
        if not _is_open(spec, path, cond):
            continue
        if best is None or len(path) < len(best):
            best = path
    if best is None:
        return None
    drawn = [best[0]]
    for a, b in zip(best, best[1:]):
        drawn += ["->" if spec.has_edge(a, b) else "<-", b]
    return drawn


def _first_minimal_set(spec: GraphSpec, treatment: str, outcome: str,
                       size: int) -> frozenset | None:
    """The first (in sorted name order) set of ``size`` observed non-descendants of the
    treatment that blocks every backdoor path: the same answer whatever the hash seed."""
    from itertools import combinations

    import networkx as nx

    skeleton = spec.to_networkx().to_undirected()
    skeleton.remove_edges_from([(treatment, c) for c in spec.children(treatment)])
    paths = list(nx.all_simple_paths(skeleton, treatment, outcome))
    for z in combinations(sorted(_non_descendants(spec, treatment, outcome)), size):
        if not any(_is_open(spec, path, set(z)) for path in paths):
            return frozenset(z)
    return None


def _non_descendants(spec: GraphSpec, treatment: str, outcome: str) -> set[str]:
    desc = spec.descendants(treatment)
    return {n for n in spec.observed if n not in desc and n not in (treatment, outcome)}


def _is_open(spec: GraphSpec, path: list[str], cond: set[str]) -> bool:
    """Whether ``path`` is d-connected given ``cond`` (Pearl 2009, def. 1.2.3)."""
    for i in range(1, len(path) - 1):
        a, m, b = path[i - 1], path[i], path[i + 1]
        if spec.has_edge(a, m) and spec.has_edge(b, m):  # a collider
            if m not in cond and not (spec.descendants(m) & cond):
                return False
        elif m in cond:
            return False
    return True
