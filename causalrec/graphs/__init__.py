"""Causal graphs with pgmpy: declared graph specs (``conf/graph/*.yaml``), fitting,
identification, exact and batched do-queries, effects, mediation, plug-in estimators,
refutation, intent proxies and structure checks.

The DoWhy sequence model -> identify -> estimate -> refute reads::

    spec = load_graph("intent_confounding")            # model (a declared DAG)
    spec = with_proxy(spec, "intent", "intent_cluster", data=df)
    estimand = identify(spec)                          # identify (backdoor / frontdoor)
    bn = fit(spec, df)                                 # estimate via the network ...
    ate(bn, spec.treatment, spec.outcome)
    est = backdoor_adjustment(df, "exposure", "click", estimand.adjustment_set)  # ... or directly
    refute_all(df, est)                                # refute

pgmpy (and networkx, matplotlib) load on first use of a name below.
"""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY = {
    # specs
    "GraphSpec": ("spec", "GraphSpec"),
    "PgmpyGraph": ("spec", "PgmpyGraph"),
    "Node": ("spec", "Node"),
    "GraphValidationError": ("spec", "GraphValidationError"),
    "load_graph": ("spec", "load_graph"),
    "available_graphs": ("spec", "available_graphs"),
    "ROLES": ("spec", "ROLES"),
    # fitting and identification
    "fit": ("fitting", "fit"),
    "identify": ("identification", "identify"),
    "Estimand": ("identification", "Estimand"),
    "NotIdentifiableError": ("identification", "NotIdentifiableError"),
    "open_backdoor_path": ("identification", "open_backdoor_path"),
    # queries and effects
    "do_query": ("interventions", "do_query"),
    "prepare": ("interventions", "prepare"),
    "PreparedNetwork": ("interventions", "PreparedNetwork"),
    "ALL": ("interventions", "ALL"),
    "ImpossibleEvidenceError": ("interventions", "ImpossibleEvidenceError"),
    "InvalidNetworkError": ("interventions", "InvalidNetworkError"),
    "ate": ("effects", "ate"),
    "cate": ("effects", "cate"),
    "expected_outcomes": ("effects", "expected_outcomes"),
    "mediation": ("mediation_formula", "mediation"),
    "MediationIdentityError": ("mediation_formula", "MediationIdentityError"),
    # estimation from data and refutation
    "EffectEstimate": ("estimators", "EffectEstimate"),
    "estimate_effect": ("estimators", "estimate_effect"),
    "backdoor_adjustment": ("estimators", "backdoor_adjustment"),
    "ipw": ("estimators", "ipw"),
    "naive_difference": ("estimators", "naive_difference"),
    "PositivityError": ("estimators", "PositivityError"),
    "Refutation": ("refute", "Refutation"),
    "placebo_treatment": ("refute", "placebo_treatment"),
    "random_common_cause": ("refute", "random_common_cause"),
    "data_subset": ("refute", "data_subset"),
    "refute_all": ("refute", "refute_all"),
    "hidden_confounder": ("refute", "hidden_confounder"),
    "refutation_table": ("refute", "refutation_table"),
    # counterfactuals, general identification, sensitivity
    "DiscreteSCM": ("counterfactual", "DiscreteSCM"),
    "counterfactual": ("counterfactual", "counterfactual"),
    "multi_world_query": ("counterfactual", "multi_world_query"),
    "probabilities_of_causation": ("causation", "probabilities_of_causation"),
    "CausationProbabilities": ("causation", "CausationProbabilities"),
    "tian_pearl_bounds": ("causation", "tian_pearl_bounds"),
    "ADMG": ("id_algorithm", "ADMG"),
    "IDEstimand": ("id_algorithm", "IDEstimand"),
    "HedgeError": ("id_algorithm", "HedgeError"),
    "id_identify": ("id_algorithm", "id_identify"),
    "id_query": ("id_algorithm", "id_query"),
    "e_value": ("sensitivity", "e_value"),
    "EValue": ("sensitivity", "EValue"),
    "bias_factor": ("sensitivity", "bias_factor"),
    "confounder_curve": ("sensitivity", "confounder_curve"),
    # intent proxies, structure, drawing
    "with_proxy": ("proxy", "with_proxy"),
    "estimate_with_proxy": ("proxy", "estimate_with_proxy"),
    "ProxyResult": ("proxy", "ProxyResult"),
    "proxy_agreement": ("proxy", "proxy_agreement"),
    "learn_graph": ("structure", "learn_graph"),
    "LearnedGraph": ("structure", "LearnedGraph"),
    "structural_hamming_distance": ("structure", "structural_hamming_distance"),
    "draw": ("drawing", "draw"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
