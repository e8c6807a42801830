"""Fit the CPDs of a declared graph to discrete data with pgmpy 1.x parameter estimators.

- ``"mle"``: maximum likelihood (:class:`pgmpy.parameter_estimator.DiscreteMLE`);
- ``"bayes"``: posterior mean under a BDeu Dirichlet prior (Heckerman, Geiger & Chickering
  1995, "Learning Bayesian networks: the combination of knowledge and statistical data";
  :class:`pgmpy.parameter_estimator.DiscreteBayesianEstimator`);
- ``"em"``: expectation-maximisation for latent nodes such as a latent intent (Dempster,
  Laird & Rubin 1977; :class:`pgmpy.parameter_estimator.DiscreteEM`). A latent node's states
  are only identified up to relabelling.

State names come from the spec (which the data's values must match), so a CPD keeps the data's
own values (``0/1``, ``"yes"/"no"``) and states unseen in the data still get a column.
"""

from __future__ import annotations

from typing import Any

from .spec import GraphSpec, GraphValidationError, load_graph

ESTIMATORS = ("mle", "bayes", "em")


def fit(spec: GraphSpec | str, df, estimator: str = "mle", *, seed: int | None = 0,
        equivalent_sample_size: float = 5.0, max_iter: int = 100,
        show_progress: bool = False, **estimator_kwargs: Any):
    """Fit a :class:`~pgmpy.models.DiscreteBayesianNetwork` for ``spec`` to ``df``.

    Latent nodes without a column in ``df`` need ``estimator="em"``; a latent node that *has*
    a column (e.g. simulated ground truth) is fitted like an observed one. Extra columns are
    ignored. Raises :class:`GraphValidationError` when a column is missing or holds values
    that are not declared states.
    """
    from pgmpy.parameter_estimator import DiscreteBayesianEstimator, DiscreteEM, DiscreteMLE

    spec = load_graph(spec)
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    hidden = [n for n in spec.latents if n not in df.columns]
    if hidden and estimator != "em":
        raise GraphValidationError(
            f"{spec.source}: latent node(s) {hidden} have no column in the data; use "
            "estimator='em', or give a proxy column (causalrec.graphs.with_proxy)")
    spec.check_data(df[[c for c in df.columns if c in spec]], require_latents=False)
    for name in spec.latents:
        if name in df.columns:
            _check_column(spec, df, name)
    data = df[[n for n in spec.node_names if n in df.columns]]
    state_names = spec.states
    from pgmpy.models import DiscreteBayesianNetwork

    bn = DiscreteBayesianNetwork(list(spec.edges), latents=set(hidden))
    bn.add_nodes_from(spec.node_names)
    if estimator == "mle":
        est = DiscreteMLE(state_names=state_names, **estimator_kwargs)
    elif estimator == "bayes":
        est = DiscreteBayesianEstimator(state_names=state_names, prior_type="BDeu",
                                        equivalent_sample_size=equivalent_sample_size,
                                        **estimator_kwargs)
    else:
        est = DiscreteEM(state_names={k: v for k, v in state_names.items() if k not in hidden},
                         latent_card={n: spec[n].cardinality for n in hidden},
                         max_iter=max_iter, seed=seed, show_progress=show_progress,
                         **estimator_kwargs)
    est.fit(bn, data)
    cpds = est.parameters_
    if estimator == "em":
        cpds = [_rename_latent_states(c, spec, hidden) for c in cpds]
    bn.add_cpds(*cpds)
    bn.latents = set(spec.latents)
    bn.check_model()
    return bn


def _check_column(spec: GraphSpec, df, name: str) -> None:
    bad = ~df[name].isin(list(spec[name].states))
    if bad.any():
        rows = df.index[bad.to_numpy()][:5].tolist()
        values = sorted(map(repr, df[name][bad].unique().tolist()))
        raise GraphValidationError(
            f"{spec.source}: node {name!r}: data values {values}"
            f" are not among the declared states {list(spec[name].states)} (rows {rows})")


def _rename_latent_states(cpd, spec: GraphSpec, hidden: list[str]):
    """EM names a latent node's states 0..k-1; use the spec's declared states instead."""
    names = dict(cpd.state_names)
    changed = False
    for var in cpd.variables:
        if var in hidden and list(names[var]) != list(spec[var].states):
            names[var] = list(spec[var].states)
            changed = True
    if not changed:
        return cpd
    from pgmpy.factors.discrete import TabularCPD

    evidence = cpd.variables[1:]
    return TabularCPD(cpd.variable, int(cpd.cardinality[0]), cpd.get_values(),
                      evidence=evidence or None,
                      evidence_card=[int(c) for c in cpd.cardinality[1:]] or None,
                      state_names={v: names[v] for v in cpd.variables})
