"""An observed intent column as a proxy for the latent intent node.

The workflow (notebook form in the graphs study):

1. cluster intent-encoder embeddings into a discrete column (the encoder issue's intent
   clustering), e.g. ``df["intent_cluster"]``;
2. ``spec2 = with_proxy(spec, "intent", "intent_cluster", data=df)`` swaps the latent node for
   the observed column (same edges, states taken from the data; cluster labels need not match
   the latent's labels, and their number may differ);
3. ``identify(spec2)`` now finds the backdoor set ``{intent_cluster}``; fit and query the
   network, or estimate directly: :func:`estimate_with_proxy` does both.

How much confounding bias remains depends on how well the clusters recover the true intent:
adjustment for a mismeasured confounder removes only part of the bias (Greenland 1980, "The
effect of misclassification in the presence of covariates"; Kuroki & Pearl 2014, "Measurement
bias and effect restoration in causal inference"). :func:`proxy_agreement` reports the
normalised mutual information between a proxy and the truth where the truth is known
(simulations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .spec import GraphSpec, GraphValidationError, load_graph


def with_proxy(spec: GraphSpec | str, latent: str, column: str, *, data=None,
               states: list | None = None) -> GraphSpec:
    """``spec`` with latent node ``latent`` replaced by the observed node ``column`` (same
    edges and role; states from ``states``, else the sorted distinct values of
    ``data[column]``, else the latent's own states)."""
    spec = load_graph(spec)
    node = spec[latent]
    if not node.latent:
        raise GraphValidationError(f"{spec.source}: node {latent!r} is not latent")
    if column != latent and column in spec:
        raise GraphValidationError(f"{spec.source}: proxy column {column!r} is already a node")
    if states is None and data is not None:
        if column not in data.columns:
            raise GraphValidationError(f"data has no proxy column {column!r}")
        states = sorted(data[column].dropna().unique().tolist())
    if states is None:
        states = list(node.states)
    desc = f"observed proxy for the latent {latent!r} ({node.description})"
    return spec.replace_node(latent, new_name=column, latent=False, states=states,
                             description=desc)


def proxy_agreement(truth, proxy) -> float:
    """Normalised mutual information between the true latent and its proxy (1 = a
    relabelling of the truth, 0 = independent)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(truth, proxy))


@dataclass(frozen=True)
class ProxyResult:
    """What :func:`estimate_with_proxy` found: the proxy spec, its estimand, the fitted
    network, the network's ATE and the direct backdoor estimate."""

    spec: GraphSpec
    estimand: Any
    bn: Any
    bn_ate: float
    backdoor: Any


def estimate_with_proxy(spec: GraphSpec | str, df, column: str, latent: str | None = None, *,
                        estimator: str = "mle", treated: Any = None,
                        control: Any = None) -> ProxyResult:
    """Run the proxy workflow on ``df``: swap the latent for ``column``, identify, fit the
    network and query its ATE, and estimate the backdoor-adjusted ATE directly."""
    from .effects import ate
    from .estimators import backdoor_adjustment
    from .fitting import fit
    from .identification import identify

    spec = load_graph(spec)
    if latent is None:
        latents = spec.latents
        if len(latents) != 1:
            raise GraphValidationError(
                f"{spec.source}: name the latent node to replace (latents: {latents})")
        latent = latents[0]
    proxied = with_proxy(spec, latent, column, data=df)
    estimand = identify(proxied)
    if estimand.kind != "backdoor":
        raise GraphValidationError(f"{spec.source}: with proxy {column!r} the effect is "
                                   f"identified by {estimand.kind}, not backdoor adjustment")
    bn = fit(proxied, df, estimator=estimator)
    bn_effect = ate(bn, proxied.treatment, proxied.outcome, treated, control)
    direct = backdoor_adjustment(df, proxied.treatment, proxied.outcome,
                                 sorted(estimand.adjustment_set), treated=treated,
                                 control=control)
    return ProxyResult(proxied, estimand, bn, bn_effect, direct)
