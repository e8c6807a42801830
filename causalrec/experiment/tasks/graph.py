"""The ``graph`` task: a causal-graph study run through ``causalrec-train task=graph``.

model -> identify -> estimate -> compare with the truth, on data simulated from the declared
graph (``cfg.graph``): fit the Bayesian network with pgmpy, query it exactly
(``ate``, ``mediation``), estimate the same effect directly from the data with the
identified adjustment set (backdoor adjustment, IPW), and report each against the
simulator's true effect and the naive (confounded) difference. Because it is a task of the
same entry point, one sweep can vary graphs, heads and datasets together.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

#: defaults of the ``study`` section for this task
DEFAULTS = {"n_users": 2000, "per_user": 20, "estimator": "mle", "hide_latent": False,
            "confounding": 1.0, "simulator": {}}


def graph_study(cfg: DictConfig) -> dict:
    from ...graphs import (
        NotIdentifiableError,
        ate,
        backdoor_adjustment,
        fit,
        identify,
        ipw,
        load_graph,
        mediation,
        naive_difference,
    )
    from ...sim import simulate

    study = {**DEFAULTS, **(OmegaConf.to_container(cfg.study, resolve=True)
                            if cfg.get("study") else {})}
    graph_cfg = OmegaConf.to_container(cfg.graph, resolve=True)
    graph_cfg.pop("_target_", None)
    spec = load_graph(graph_cfg)
    sim = simulate(graph_cfg, n_users=int(study["n_users"]), per_user=int(study["per_user"]),
                   confounding=float(study["confounding"]), seed=int(cfg.seed),
                   **dict(study["simulator"]))
    df = sim.to_discrete_frame("logs", include_latent=not study["hide_latent"])
    if not study["hide_latent"]:
        # the simulator reveals the latent columns: the study treats them as observed
        for name in spec.latents:
            spec = spec.replace_node(name, latent=False)
    t, y = spec.treatment, spec.outcome
    truth = sim.truth
    bn = fit(spec, df, estimator=study["estimator"], seed=int(cfg.seed))
    metrics = {"graph/ate_true": float(truth.ate), "graph/ate_bn": float(ate(bn, t, y)),
               "graph/ate_naive": float(naive_difference(df, t, y).value)}
    try:
        estimand = identify(spec)
        adjust = sorted(estimand.adjustment_set)
        if estimand.kind == "backdoor":
            metrics["graph/ate_backdoor"] = float(backdoor_adjustment(df, t, y, adjust).value)
            metrics["graph/ate_ipw"] = float(ipw(df, t, y, adjust).value)
        identified = estimand.kind
    except NotIdentifiableError as exc:
        identified = f"not identifiable: {exc}"
    for key in ("bn", "naive", "backdoor", "ipw"):
        if f"graph/ate_{key}" in metrics:
            metrics[f"graph/abs_err_{key}"] = abs(metrics[f"graph/ate_{key}"] - truth.ate)
    if spec.mediator:
        med = mediation(bn, t, spec.mediator, y)
        true_med = (truth.mediation or {}).get(y, {})
        for part in ("total", "natural_direct", "natural_indirect"):
            metrics[f"graph/{part}_bn"] = float(med[part])
            if part in true_med:
                metrics[f"graph/{part}_true"] = float(true_med[part])
    metrics["_info"] = {"graph": spec.name, "identification": identified,
                        "rows": len(df), "data": {"rows": len(df), "columns": list(df.columns)}}
    return metrics
