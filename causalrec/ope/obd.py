"""Off-policy evaluation on the Open Bandit Dataset: its logs as
:class:`~causalrec.ope.LoggedFeedback`, its logged policies as evaluation policies, and their
on-policy values - the ingredients of the OBD benchmark (Saito et al., "Open Bandit Dataset
and Pipeline: Towards Realistic and Reproducible Off-Policy Evaluation", NeurIPS Datasets
and Benchmarks 2021). The dataset itself is loaded by :func:`causalrec.data.obd.load_obd`.

OBD's ``bts`` log was collected by Bernoulli Thompson Sampling whose Beta parameters were
ZOZOTOWN's production click statistics at the start of data collection. The Open Bandit
Pipeline ships those parameters as ``obp/policy/conf/prior_bts.yaml`` in the ``obp==0.5.7``
sdist, the same artefact that holds the OBD sample; :func:`obd_bts_prior` fetches that one
file through :mod:`causalrec.data.fetcher` (sha256-pinned; obp is never installed or
imported). The evaluation policy ``bts`` is then the slot marginals of a TS ranking under
that prior (:func:`~causalrec.ope.policies.bernoulli_ts_action_dist`), as obp's
``BernoulliTS(is_zozotown_prior=True).compute_batch_action_dist`` computes them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalrec.data.fetcher import Artefact, fetch_artefact
from causalrec.data.schema import DataValidationError, InteractionData
from causalrec.ope.feedback import LoggedFeedback
from causalrec.ope.policies import bernoulli_ts_action_dist, uniform_policy

PRIOR_ARTEFACT = Artefact(
    name="obp-bts-prior",
    requirement="obp==0.5.7",
    pip_args=("--no-binary", ":all:", "--ignore-requires-python"),
    members={"obp/policy/conf/prior_bts.yaml":
             "81a54fbdc184021ccc62ab97de81ec35461c032e3d7f99ccaa0a9745f732d251"},
)
CAMPAIGN_ACTIONS = {"all": 80, "men": 34, "women": 46}
LEN_LIST = 3


def _campaign(campaign: str) -> str:
    if campaign not in CAMPAIGN_ACTIONS:
        raise ValueError(f"OBD campaign must be one of {tuple(CAMPAIGN_ACTIONS)}, "
                         f"got {campaign!r}")
    return campaign


def obd_bts_prior(campaign: str = "all", quiet: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """ZOZOTOWN's production Beta parameters ``(alpha, beta)`` of the BTS policy of a
    campaign (one entry per action)."""
    import yaml

    campaign = _campaign(campaign)
    folder = fetch_artefact(PRIOR_ARTEFACT, quiet=quiet)
    prior = yaml.safe_load((folder / "prior_bts.yaml").read_text())
    alpha = np.asarray(prior[campaign]["alpha"], dtype=np.float64)
    beta = np.asarray(prior[campaign]["beta"], dtype=np.float64)
    if alpha.shape != (CAMPAIGN_ACTIONS[campaign],) or beta.shape != alpha.shape:
        raise ValueError(f"prior_bts.yaml: campaign {campaign!r} has {alpha.shape[0]} alphas "
                         f"and {beta.shape[0]} betas, expected {CAMPAIGN_ACTIONS[campaign]}")
    return alpha, beta


def obd_policy_action_dist(policy: str, campaign: str = "all", *, n_sim: int = 1_000_000,
                           seed: int | None = 12345) -> np.ndarray:
    """``[1, n_actions, 3]`` slot marginals of OBD's ``random`` or ``bts`` policy (BTS by
    ``n_sim`` Monte Carlo rankings under the production prior, as the OBP benchmark)."""
    campaign = _campaign(campaign)
    if policy == "random":
        return uniform_policy(CAMPAIGN_ACTIONS[campaign], LEN_LIST)
    if policy == "bts":
        alpha, beta = obd_bts_prior(campaign)
        return bernoulli_ts_action_dist(alpha, beta, LEN_LIST, n_sim=n_sim, seed=seed)
    raise ValueError(f"OBD policy must be 'random' or 'bts', got {policy!r}")


def obd_feedback(data: InteractionData) -> LoggedFeedback:
    """The logged bandit feedback of an OBD InteractionData (one row per round), with OBP's
    default pre-processing (``OpenBanditDataset.obtain_batch_bandit_feedback``): ``context``
    is the one-hot user features with the first level dropped, ``action_context`` the
    label-encoded categorical item features then ``item_feature_0``."""
    df = data.interactions.sort_values("round", kind="stable") if "round" in \
        data.interactions.columns else data.interactions
    for col in ("item", "label", "propensity", "position"):
        if col not in df.columns:
            raise DataValidationError(f"bandit feedback needs column {col!r}", source=data.source,
                                      column=col)
    users = df["user"].to_numpy()
    uf = data.user_features.iloc[users].reset_index(drop=True) if data.user_features is not None \
        else pd.DataFrame(index=range(len(df)))
    context = pd.get_dummies(uf.astype(str), drop_first=True).to_numpy(np.float64)
    itf = data.item_features
    if itf is not None and "item_feature_0" in itf.columns:
        cat = itf.drop(columns=["item_feature_0"]).apply(
            lambda s: pd.Series(np.unique(s.astype(str), return_inverse=True)[1]))
        action_context = pd.concat([cat, itf[["item_feature_0"]]], axis=1).to_numpy(np.float64)
    else:
        action_context = np.eye(data.n_items)
    return LoggedFeedback.build(
        action=df["item"].to_numpy(np.int64), reward=df["label"].to_numpy(np.float64),
        pscore=df["propensity"].to_numpy(np.float64),
        position=df["position"].to_numpy(np.int64), context=context,
        action_context=action_context, n_actions=data.n_items,
        n_positions=int(df["position"].max()) + 1)


def load_obd_feedback(policy: str = "random", campaign: str = "all", **load_kw) -> LoggedFeedback:
    """``obd_feedback(load_obd(policy, campaign, **load_kw))``."""
    from causalrec.data.obd import load_obd

    return obd_feedback(load_obd(policy=policy, campaign=campaign, **load_kw))


def obd_on_policy_value(policy: str, campaign: str = "all", **load_kw) -> float:
    """The mean reward of a policy's own OBD log: the ground truth of the OBD benchmark."""
    fb = load_obd_feedback(policy=policy, campaign=_campaign(campaign), **load_kw)
    return float(np.mean(fb.reward))
