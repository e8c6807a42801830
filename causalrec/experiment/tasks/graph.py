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

``study.source`` is ``simulator`` (logs drawn from the graph, with the truth) or ``dataset``
(``dataset.source``: your own interactions with a column per observed node and the users'
text, e.g. ``cr.experiment.run([...], data=InteractionData.from_frame(...))``; the truth is
unknown there, so the record holds the estimates without errors or bias shares).

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


def _proxy_metrics(cfg, study, data, spec, df_all, truth, seed, metrics) -> dict:
    """The proxy route (see the module docstring); fills ``metrics``, returns run info.
    ``truth`` is the simulation's :class:`~causalrec.sim.SimulationTruth` (None on a
    dataset: then no errors, no oracle unless the latent has a column, no bias share)."""
    from sklearn.metrics import adjusted_rand_score

    from ...graphs import proxy_agreement, with_proxy

    latent = study.get("latent") or (spec.latents[0] if len(spec.latents) == 1 else None)
    if latent is None or latent not in spec.latents:
        raise ValueError(f"study.latent must name the latent node the proxy replaces "
                         f"(latents of {spec.name!r}: {spec.latents}), got {latent!r}")
    if data.user_text is None:
        raise ValueError(f"study.intent=proxy reads the users' text, but the data "
                         f"{data.name!r} has no user_text (column 'text' of from_frame, or "
                         f"a loader's user text)")
    labels, clusters = encode_and_cluster(cfg, data, study, seed)
    column = f"{latent}_proxy"
    df = df_all.assign(**{column: labels[data.interactions["user"].to_numpy()]})
    metrics["graph/proxy_k"] = int(clusters.k)
    if latent in df_all.columns:  # the latent's truth is known (a simulation)
        metrics["graph/proxy_nmi_rows"] = proxy_agreement(df[latent], df[column])
    true_user = truth.user_intent if truth is not None and latent == "intent" else None
    if true_user is not None:
        metrics["graph/proxy_ari"] = float(adjusted_rand_score(true_user, labels))
        metrics["graph/proxy_nmi"] = proxy_agreement(true_user, labels)
    proxied = with_proxy(spec, latent, column, data=df)
    est, kind, _ = estimate_all(proxied, df.drop(columns=[latent], errors="ignore"),
                                estimator=study["estimator"], seed=seed)
    metrics.update({f"graph/ate_{k}": v for k, v in est.items()})
    if latent in df_all.columns:
        revealed = spec.replace_node(latent, latent=False)
        oracle, _, _ = estimate_all(revealed, df_all, estimator=study["estimator"], seed=seed)
        metrics.update({f"graph/ate_oracle_{k}": v for k, v in oracle.items()})
    return {"identification": kind, "proxy": {
        "latent": latent, "column": column, "k": int(clusters.k),
        "silhouette": {str(k): v for k, v in clusters.silhouette.items()},
        "encoder": str(cfg.encoder.get("_target_", "")),
        "model": str(cfg.encoder.get("model", ""))}}


def _simulated(study: dict, graph_cfg: dict, seed: int):
    """``(data, frame of every node incl. latents, truth)`` drawn by the simulator."""
    from ...sim import simulate

    sim = simulate(graph_cfg, n_users=int(study["n_users"]), per_user=int(study["per_user"]),
                   confounding=float(study["confounding"]),
                   text_noise=float(study["text_noise"]), seed=seed,
                   **dict(study.get("simulator") or {}))
    return sim.data, sim.to_discrete_frame("logs", include_latent=True), sim.truth


def _from_dataset(cfg: DictConfig, spec):
    """``(data, frame of the graph's nodes, None)`` from ``cfg.dataset.source``: your own
    interactions (``dataset=table``, or ``cr.experiment.run(..., data=...)``), one column per
    observed node with the declared states; a latent node's column is used when present."""
    import pandas as pd
    from hydra.utils import instantiate

    from ...data import InteractionData
    from ...graphs import GraphValidationError

    if cfg.get("dataset") is None or cfg.dataset.get("source") is None:
        raise ValueError("study.source=dataset reads dataset.source; choose a dataset "
                         "(dataset=table ...) or pass data= to causalrec.experiment.run")
    data = instantiate(cfg.dataset.source)
    if not isinstance(data, InteractionData):
        raise ValueError(f"dataset.source must give an InteractionData, got "
                         f"{type(data).__name__}")
    inter = data.interactions
    spec.check_data(inter[[c for c in inter.columns if c in spec]], require_latents=False)
    cols = {}
    for name in spec.node_names:
        if name not in inter.columns:
            continue
        states = {s: s for s in spec[name].states}  # 1.0 -> the declared state 1
        cols[name] = inter[name].map(states)
    missing = [n for n in spec.observed if n not in cols]
    if missing:  # pragma: no cover - check_data refuses it first
        raise GraphValidationError(f"data {data.name!r} has no column for node(s) {missing}")
    return data, pd.DataFrame(cols), None


def graph_study(cfg: DictConfig) -> dict:
    from ...graphs import load_graph, mediation, naive_difference

    study = _study(cfg)
    seed = int(cfg.seed)
    graph_cfg = OmegaConf.to_container(cfg.graph, resolve=True)
    graph_cfg.pop("_target_", None)
    spec = load_graph(graph_cfg)
    if study.get("source", "simulator") == "simulator":
        data, df_all, truth = _simulated(study, graph_cfg, seed)
    elif study["source"] == "dataset":
        data, df_all, truth = _from_dataset(cfg, spec)
    else:
        raise ValueError(f"study.source must be 'simulator' or 'dataset', got "
                         f"{study['source']!r}")
    t, y = spec.treatment, spec.outcome
    naive = float(naive_difference(df_all, t, y).value)
    metrics: dict = {"graph/ate_naive": naive}
    info: dict = {}
    bn = None
    if study["intent"] == "proxy":
        info = _proxy_metrics(cfg, study, data, spec, df_all, truth, seed, metrics)
    else:
        hidden = [n for n in spec.latents if n not in df_all.columns]
        if study["intent"] == "revealed":  # the data (a simulation) reveals the latents
            if hidden:
                raise ValueError(f"study.intent=revealed needs a column for the latent "
                                 f"node(s) {hidden}; the data has none (use proxy)")
            for name in spec.latents:
                spec = spec.replace_node(name, latent=False)
            df = df_all
        else:
            df = df_all.drop(columns=[n for n in spec.latents if n in df_all.columns])
        est, kind, bn = estimate_all(spec, df, estimator=study["estimator"], seed=seed)
        metrics.update({f"graph/ate_{k}": v for k, v in est.items()})
        info["identification"] = kind
    if truth is not None:
        metrics["graph/ate_true"] = float(truth.ate)
        for key in [k[len("graph/ate_"):] for k in list(metrics) if k.startswith("graph/ate_")
                    and k != "graph/ate_true"]:
            value = metrics[f"graph/ate_{key}"]
            metrics[f"graph/abs_err_{key}"] = abs(value - truth.ate)
            if key != "naive":
                metrics[f"graph/bias_removed_{key}"] = bias_removed(naive, value, truth.ate)
    if spec.mediator and bn is not None:
        med = mediation(bn, t, spec.mediator, y)
        true_med = (truth.mediation or {}).get(y, {}) if truth is not None else {}
        for part in ("total", "natural_direct", "natural_indirect"):
            metrics[f"graph/{part}_bn"] = float(med[part])
            if part in true_med:
                metrics[f"graph/{part}_true"] = float(true_med[part])
    metrics["_info"] = {"graph": spec.name, "intent": study["intent"],
                        "source": study.get("source", "simulator"), "rows": len(df_all),
                        "data": {"name": data.name, "rows": len(df_all),
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
