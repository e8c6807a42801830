"""The ``graph`` task: a causal-graph study run through ``causalrec-train task=graph``.

model -> identify -> estimate -> compare with the truth, on data simulated from the declared
graph (``cfg.graph``). Where the latent intent comes from is ``study.intent``:

* ``revealed``: the simulator's true intent is an observed column (an oracle, possible only
  in a simulation);
* ``latent``: intent stays hidden; the effect is then usually not identifiable and the run
  records why (the open backdoor path) beside the naive difference;
* ``proxy``: the headline pipeline of causalrec - the users' text is encoded by the
  configured ``encoder`` group (MiniLM by default in ``experiment=intent_proxy``, through the
  embedding cache), clustered into a discrete intent (:func:`causalrec.encoders.cluster_intents`,
  ``study.k`` fixed or chosen by silhouette in ``study.k_range``), swapped in for the latent
  node (:func:`causalrec.graphs.with_proxy`), identified and estimated. Each estimate is
  reported against the truth beside the naive difference and the revealed-intent oracle on
  the same rows, with the proxy's agreement with the true intent (adjusted Rand index,
  Hubert & Arabie 1985; normalised mutual information) and the share of the naive
  difference's confounding bias it removes, ``(naive - estimate) / (naive - truth)``
  (the percent bias reduction of Cochran & Rubin 1973; 1 = all of it, 0 = none).

Estimates: the fitted network's exact ATE (pgmpy), backdoor adjustment and IPW with the
identified adjustment set (Pearl 2009, ch. 3.3; Rosenbaum & Rubin 1983). The defaults of
``study`` live in ``conf/experiment/graph_study.yaml`` (every graph experiment starts from
it); metrics go to the run record and to the configured loggers (W&B), so sweeps over text
noise, encoders, cluster counts and graphs compare with ``causalrec-compare``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

INTENT_SOURCES = ("latent", "revealed", "proxy")
ESTIMATES = ("bn", "backdoor", "ipw")


def _study(cfg: DictConfig) -> dict:
    if cfg.get("study") is None:
        raise ValueError("the graph task needs a 'study' section (key: study): start from "
                         "experiment=graph_study (or intent_confounding, intent_proxy, "
                         "mediation), which hold its defaults")
    study = OmegaConf.to_container(cfg.study, resolve=True)
    if study.get("intent") not in INTENT_SOURCES:
        raise ValueError(f"study.intent must be one of {list(INTENT_SOURCES)}, got "
                         f"{study.get('intent')!r}")
    return study


def estimate_all(spec, df, *, estimator: str = "mle", seed: int = 0) -> tuple[dict, str, Any]:
    """Identify the spec's effect and estimate it three ways on ``df``.

    Returns ``({"bn": .., "backdoor": .., "ipw": ..}, identification, bn)``: the network's
    exact ATE, and backdoor/IPW with the identified set (absent when the effect is
    identified only by frontdoor, NaN when a stratum lacks an arm). ``identification`` is
    the estimand's kind or ``"not identifiable: <why>"`` (then nothing is estimated).
    """
    from ...graphs import (
        NotIdentifiableError,
        PositivityError,
        ate,
        backdoor_adjustment,
        fit,
        identify,
        ipw,
    )

    t, y = spec.treatment, spec.outcome
    try:
        estimand = identify(spec)
    except NotIdentifiableError as exc:
        return {}, f"not identifiable: {exc}", None
    bn = fit(spec, df, estimator=estimator, seed=seed)
    out = {"bn": float(ate(bn, t, y))}
    if estimand.kind == "backdoor":
        adjust = sorted(estimand.adjustment_set)
        for key, fn in (("backdoor", backdoor_adjustment), ("ipw", ipw)):
            try:
                out[key] = float(fn(df, t, y, adjust).value)
            except PositivityError:
                out[key] = math.nan
    return out, estimand.kind, bn


def bias_removed(naive: float, estimate: float, truth: float) -> float:
    """Share of the naive difference's bias an estimate removes: ``(naive - estimate) /
    (naive - truth)`` (Cochran & Rubin 1973); NaN when the naive difference is unbiased."""
    gap = naive - truth
    return float((naive - estimate) / gap) if gap != 0 else math.nan


def encode_and_cluster(cfg: DictConfig, data, study: dict, seed: int) -> tuple[np.ndarray, Any]:
    """User vectors from the configured encoder (``cfg.encoder``) and their k-means intents.

    Returns ``(labels [n_users], IntentClusters)``.
    """
    import torch

    from ...encoders import build_encoder, cluster_intents

    encoder = build_encoder(cfg.encoder, data)
    encoder.eval()
    with torch.no_grad():
        vectors = encoder.encode_users(torch.arange(data.n_users)).detach().cpu().numpy()
    k = study.get("k")
    clusters = cluster_intents(vectors, k=None if k is None else int(k),
                               k_range=tuple(study["k_range"]), seed=seed, return_info=True)
    return clusters.labels, clusters


def _proxy_metrics(cfg, study, sim, spec, df_all, truth_ate, naive, seed, metrics) -> dict:
    """The proxy route (see the module docstring); fills ``metrics``, returns run info."""
    from sklearn.metrics import adjusted_rand_score

    from ...graphs import proxy_agreement, with_proxy

    latent = study.get("latent") or (spec.latents[0] if len(spec.latents) == 1 else None)
    if latent is None or latent not in spec.latents:
        raise ValueError(f"study.latent must name the latent node the proxy replaces "
                         f"(latents of {spec.name!r}: {spec.latents}), got {latent!r}")
    labels, clusters = encode_and_cluster(cfg, sim.data, study, seed)
    column = f"{latent}_proxy"
    users = sim.data.interactions["user"].to_numpy()
    df = df_all.assign(**{column: labels[users]})
    true_user = {"intent": sim.truth.user_intent}.get(latent)
    metrics["graph/proxy_k"] = int(clusters.k)
    metrics["graph/proxy_nmi_rows"] = proxy_agreement(df[latent], df[column])
    if true_user is not None:
        metrics["graph/proxy_ari"] = float(adjusted_rand_score(true_user, labels))
        metrics["graph/proxy_nmi"] = proxy_agreement(true_user, labels)
    proxied = with_proxy(spec, latent, column, data=df)
    est, kind, _ = estimate_all(proxied, df.drop(columns=[latent]),
                                estimator=study["estimator"], seed=seed)
    revealed = spec.replace_node(latent, latent=False)
    oracle, _, _ = estimate_all(revealed, df_all, estimator=study["estimator"], seed=seed)
    for key, value in est.items():
        metrics[f"graph/ate_{key}"] = value
        metrics[f"graph/bias_removed_{key}"] = bias_removed(naive, value, truth_ate)
    for key, value in oracle.items():
        metrics[f"graph/ate_oracle_{key}"] = value
        metrics[f"graph/abs_err_oracle_{key}"] = abs(value - truth_ate)
        metrics[f"graph/bias_removed_oracle_{key}"] = bias_removed(naive, value, truth_ate)
    return {"identification": kind, "proxy": {
        "latent": latent, "column": column, "k": int(clusters.k),
        "silhouette": {str(k): v for k, v in clusters.silhouette.items()},
        "encoder": str(cfg.encoder.get("_target_", "")),
        "model": str(cfg.encoder.get("model", ""))}}


def graph_study(cfg: DictConfig) -> dict:
    from ...graphs import load_graph, mediation, naive_difference
    from ...sim import simulate

    study = _study(cfg)
    seed = int(cfg.seed)
    graph_cfg = OmegaConf.to_container(cfg.graph, resolve=True)
    graph_cfg.pop("_target_", None)
    spec = load_graph(graph_cfg)
    sim = simulate(graph_cfg, n_users=int(study["n_users"]), per_user=int(study["per_user"]),
                   confounding=float(study["confounding"]),
                   text_noise=float(study["text_noise"]), seed=seed,
                   **dict(study.get("simulator") or {}))
    t, y = spec.treatment, spec.outcome
    truth = sim.truth
    df_all = sim.to_discrete_frame("logs", include_latent=True)
    naive = float(naive_difference(df_all, t, y).value)
    metrics: dict = {"graph/ate_true": float(truth.ate), "graph/ate_naive": naive}
    info: dict = {}
    bn = None
    if study["intent"] == "proxy":
        info = _proxy_metrics(cfg, study, sim, spec, df_all, truth.ate, naive, seed, metrics)
    else:
        if study["intent"] == "revealed":  # the simulator reveals the latent columns
            for name in spec.latents:
                spec = spec.replace_node(name, latent=False)
            df = df_all
        else:
            df = df_all.drop(columns=spec.latents)
        est, kind, bn = estimate_all(spec, df, estimator=study["estimator"], seed=seed)
        metrics.update({f"graph/ate_{k}": v for k, v in est.items()})
        metrics.update({f"graph/bias_removed_{k}": bias_removed(naive, v, truth.ate)
                        for k, v in est.items()})
        info["identification"] = kind
    for key in ("naive", *ESTIMATES):
        if f"graph/ate_{key}" in metrics:
            metrics[f"graph/abs_err_{key}"] = abs(metrics[f"graph/ate_{key}"] - truth.ate)
    if spec.mediator and bn is not None:
        med = mediation(bn, t, spec.mediator, y)
        true_med = (truth.mediation or {}).get(y, {})
        for part in ("total", "natural_direct", "natural_indirect"):
            metrics[f"graph/{part}_bn"] = float(med[part])
            if part in true_med:
                metrics[f"graph/{part}_true"] = float(true_med[part])
    metrics["_info"] = {"graph": spec.name, "intent": study["intent"],
                        "rows": len(df_all), "data": {"rows": len(df_all),
                                                      "columns": list(df_all.columns)}, **info}
    _log(cfg, metrics)
    return metrics


def _log(cfg: DictConfig, metrics: dict) -> None:
    """Send the numbers to the configured loggers (CSV, W&B), as the train task does."""
    if not any(c is not None and "_target_" in c for c in (cfg.get("logger") or {}).values()):
        return
    from ..loggers import build_loggers

    numbers = {k: float(v) for k, v in metrics.items()
               if not k.startswith("_") and isinstance(v, int | float)}
    for logger in build_loggers(cfg):
        logger.log_metrics(numbers, step=0)
        logger.finalize("success")
