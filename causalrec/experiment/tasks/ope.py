"""The ``ope`` task: off-policy evaluation on the Open Bandit Dataset through
``causalrec-train task=ope`` (or ``experiment=ope_obd``).

Evaluates OBD's ``evaluation`` policy from the ``behavior`` policy's log with the seven
estimators, over bootstrap resamples, against the on-policy truth (the mean reward of the
evaluation policy's own log), as in the Open Bandit Pipeline benchmark (Saito et al. 2021).
Metrics: each estimator's mean / std relative error and mean estimate.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

DEFAULTS = {"behavior": "random", "evaluation": "bts", "campaign": "all", "n_resamples": 30,
            "n_sim": 1_000_000, "reward_model": {"C": 100.0, "per_position": False,
                                                 "n_folds": 3}}


def ope_study(cfg: DictConfig) -> dict:
    from sklearn.linear_model import LogisticRegression

    from ...ope.evaluation import evaluate_estimators
    from ...ope.obd import load_obd_feedback, obd_on_policy_value, obd_policy_action_dist
    from ...ope.reward_model import RewardModel

    study = {**DEFAULTS, **(OmegaConf.to_container(cfg.study, resolve=True)
                            if cfg.get("study") else {})}
    rm_cfg = {**DEFAULTS["reward_model"], **dict(study["reward_model"])}
    seed = int(cfg.seed)
    fb = load_obd_feedback(policy=study["behavior"], campaign=study["campaign"], quiet=True)
    truth = obd_on_policy_value(study["evaluation"], study["campaign"], quiet=True)
    action_dist = obd_policy_action_dist(study["evaluation"], study["campaign"],
                                         n_sim=int(study["n_sim"]), seed=12345 + seed)
    model = RewardModel(LogisticRegression(C=float(rm_cfg["C"]), max_iter=10000,
                                           random_state=seed),
                        per_position=bool(rm_cfg["per_position"]),
                        n_folds=int(rm_cfg["n_folds"]), seed=seed)
    errors = evaluate_estimators(fb, action_dist, truth, reward_model=model,
                                 n_resamples=int(study["n_resamples"]), seed=seed)
    estimates = errors.attrs.get("estimates")
    metrics: dict = {"ope/truth": truth, "ope/log_mean_reward": float(fb.reward.mean())}
    for name in errors.columns:
        metrics[f"ope/relerr_{name}"] = float(errors[name].mean())
        metrics[f"ope/relerr_std_{name}"] = float(errors[name].std(ddof=1)) \
            if len(errors) > 1 else 0.0
        if estimates is not None and name in estimates:
            metrics[f"ope/estimate_{name}"] = float(estimates[name].mean())
    metrics["_info"] = {"ope": {"behavior": study["behavior"], "evaluation": study["evaluation"],
                                "campaign": study["campaign"], "rounds": fb.n_rounds}}
    return metrics
