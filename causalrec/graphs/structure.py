"""How far do the data support a declared graph? Learn a structure and compare.

:func:`learn_graph` runs one of pgmpy's structure learners on discrete data:

- ``"hc"``: greedy hill climbing on the BIC score (Heckerman, Geiger & Chickering 1995;
  Koller & Friedman 2009, sec. 18.4.3; :class:`pgmpy.causal_discovery.HillClimbSearch`);
- ``"pc"``: the PC algorithm with chi-square independence tests (Spirtes, Glymour & Scheines
  2000, *Causation, Prediction, and Search*; :class:`pgmpy.causal_discovery.PC`),
  its undirected edges oriented arbitrarily into a DAG;

and returns the learned :class:`~causalrec.graphs.GraphSpec` with its structural Hamming
distance (Tsamardinos, Brown & Aliferis 2006, "The max-min hill-climbing Bayesian network
structure learning algorithm": missing + extra + reversed edges, via
:class:`pgmpy.metrics.SHD`) to the declared graph restricted to its observed nodes (a learner
cannot see latent nodes).
"""

from __future__ import annotations

from dataclasses import dataclass

from .spec import GraphSpec, GraphValidationError, Node, load_graph


@dataclass(frozen=True)
class LearnedGraph:
    """A learned structure and how it differs from the declared (expert) graph."""

    spec: GraphSpec
    shd: int | None
    missing: tuple[tuple[str, str], ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    reversed: tuple[tuple[str, str], ...] = ()

    def __iter__(self):  # ``spec, shd = learn_graph(...)``
        return iter((self.spec, self.shd))


def _observed_edges(spec: GraphSpec) -> set[tuple[str, str]]:
    obs = set(spec.observed)
    return {(u, v) for u, v in spec.edges if u in obs and v in obs}


def structural_hamming_distance(learned: GraphSpec, expert: GraphSpec) -> int:
    """SHD between two specs over ``expert``'s observed nodes (pgmpy's :class:`~pgmpy.metrics.SHD`)."""
    from pgmpy.base import DAG
    from pgmpy.metrics import SHD

    nodes = expert.observed
    true = DAG(sorted(_observed_edges(expert)))
    true.add_nodes_from(nodes)
    est = DAG(sorted((u, v) for u, v in learned.edges if u in nodes and v in nodes))
    est.add_nodes_from(nodes)
    return int(SHD().evaluate(true_causal_graph=true, est_causal_graph=est))


def learn_graph(data, method: str = "hc", expert: GraphSpec | str | None = None, *,
                significance_level: float = 0.01, max_indegree: int | None = None,
                name: str | None = None) -> LearnedGraph:
    """Learn a DAG from ``data`` (discrete columns) with ``method`` (``"hc"`` or ``"pc"``).

    With ``expert``, only its observed nodes are used, the learned spec inherits its roles,
    states and treatment/outcome, and the SHD to it is returned; without, every column is a
    node and ``shd`` is None.
    """
    import pandas as pd

    if method not in ("hc", "pc"):
        raise ValueError(f"method must be 'hc' or 'pc', got {method!r}")
    exp = load_graph(expert) if expert is not None else None
    columns = exp.observed if exp is not None else list(data.columns)
    if exp is not None:
        exp.check_data(data)
    df = data[columns].copy()
    for c in columns:  # pgmpy's discrete scores want categorical columns
        if not isinstance(df[c].dtype, pd.CategoricalDtype):
            cats = list(exp[c].states) if exp is not None else sorted(df[c].unique().tolist())
            df[c] = pd.Categorical(df[c], categories=cats)
    if method == "hc":
        from pgmpy.causal_discovery import HillClimbSearch

        learner = HillClimbSearch(scoring_method="bic-d", max_indegree=max_indegree,
                                  return_type="dag", show_progress=False)
    else:
        from pgmpy.causal_discovery import PC

        learner = PC(ci_test="chi_square", significance_level=significance_level,
                     return_type="dag", show_progress=False, n_jobs=1)
    learner.fit(df)
    edges = tuple(sorted((str(u), str(v)) for u, v in learner.causal_graph_.edges()))
    if exp is not None:
        nodes = tuple(exp[c] for c in columns)
        treatment = exp.treatment if exp.treatment in columns else None
        outcome = exp.outcome if exp.outcome in columns else None
        mediator = exp.mediator if exp.mediator in columns else None
    else:
        nodes = tuple(Node(c, tuple(sorted(df[c].cat.categories.tolist()))) for c in columns)
        treatment = outcome = mediator = None
    spec = GraphSpec(name=name or f"learned_{method}" + (f"_{exp.name}" if exp else ""),
                     nodes=nodes, edges=edges, treatment=treatment, outcome=outcome,
                     mediator=mediator, description=f"learned from data by {method}",
                     source=f"<learn_graph {method}>")
    try:
        spec.validate(require_roles=False)
    except GraphValidationError:  # pragma: no cover - learners return DAGs
        raise
    if exp is None:
        return LearnedGraph(spec, None)
    true_e, est_e = _observed_edges(exp), set(edges)
    missing = tuple(sorted(e for e in true_e if e not in est_e and e[::-1] not in est_e))
    extra = tuple(sorted(e for e in est_e if e not in true_e and e[::-1] not in true_e))
    rev = tuple(sorted(e for e in est_e if e[::-1] in true_e and e not in true_e))
    return LearnedGraph(spec, structural_hamming_distance(spec, exp), missing, extra, rev)
