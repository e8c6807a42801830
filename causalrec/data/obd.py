"""The Open Bandit Dataset sample (Saito et al., "Open Bandit Dataset and Pipeline: Towards
Realistic and Reproducible Off-Policy Evaluation", NeurIPS Datasets & Benchmarks 2021).

Logged bandit feedback from the ZOZOTOWN fashion store: in each round a behaviour policy
(``random``: uniform over the campaign's items; ``bts``: Bernoulli Thompson sampling) shows
an item at one of three positions and logs the click. The 10,000-round samples of each
policy and campaign (``all``, ``men``, ``women``) ship in the ``obp==0.5.7`` sdist on PyPI
(fetched once, sha256-checked; obp is never installed or imported).

As :class:`~causalrec.data.InteractionData`: one interaction per round with ``item`` (the
action), ``label`` (the click, the reward), ``propensity`` (the logged pscore),
``position`` (0-based), ``exposure`` (1: the item was shown), ``timestamp`` (seconds),
``policy`` and ``round``. OBD has no user ids; a *user* is one distinct combination of the
four hashed user features (a user context), whose values are the user feature table. The
per-round user-item affinities are the columns ``affinity_0 .. affinity_{n_actions - 1}``.
:func:`causalrec.ope.obd.obd_feedback` turns it into the logged bandit feedback the
off-policy estimators read (OBP's default pre-processing reproduced).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .fetcher import Artefact, fetch_artefact
from .schema import DataValidationError, InteractionData

_ROOT = "obp/dataset/obd"
ARTEFACT = Artefact(
    name="obd",
    requirement="obp==0.5.7",
    pip_args=("--no-binary", ":all:", "--ignore-requires-python"),
    members={
        f"{_ROOT}/bts/all/all.csv":
            "0ad874e4dbf6902f0845dd478ad8dde5ef6903583d3ffaace78411bdad064106",
        f"{_ROOT}/bts/all/item_context.csv":
            "5d4359ba1cfa3ae88f0f1bae66bd633859fe6323817183632ee57b83539d9153",
        f"{_ROOT}/bts/men/item_context.csv":
            "3b411ed6b0471316321a6b93f4f756bb25888eac6218cd71d0b603d41d85732d",
        f"{_ROOT}/bts/men/men.csv":
            "db6d1f7ed2d591ba521533e45286d4c1fba7fe57a8ad2e80342210335f43c527",
        f"{_ROOT}/bts/women/item_context.csv":
            "a56295bad066a558eb783055afd9279f5f4e209a4776eafc22151c53f0ac89d4",
        f"{_ROOT}/bts/women/women.csv":
            "e5d1b49a39b608585a2f3014a3f54970430cd37a495c1b73fceb85cdf428a5b8",
        f"{_ROOT}/random/all/all.csv":
            "7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1",
        f"{_ROOT}/random/all/item_context.csv":
            "eba04cc23d5f130a93ff174c5392986882b94c3839433cb8143870eaa6221358",
        f"{_ROOT}/random/men/item_context.csv":
            "6d855c2b7e917d0448d71bbe62c023147495882c0fdc8c41e86fef86abf9fe09",
        f"{_ROOT}/random/men/men.csv":
            "ede6d08c6877f99cd3770f7d09e26c738e6aa6de4445ccccfb1356ba5d06b1eb",
        f"{_ROOT}/random/women/item_context.csv":
            "b1ca4905f97703d196004f2ad4552c1e90c2afad8b50688d333b0d2dc0b33147",
        f"{_ROOT}/random/women/women.csv":
            "e65f3bd3beb17664fa69cc129bf7bf852a775f8ffa630506e505fc905315bb34",
    },
)

POLICIES = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
LOG_COLUMNS = ("timestamp", "item_id", "position", "click", "propensity_score")
USER_FEATURES = tuple(f"user_feature_{i}" for i in range(4))


def _read_log(folder, policy: str, campaign: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = folder / policy / campaign / f"{campaign}.csv"
    log = pd.read_csv(path, index_col=0)
    for col in LOG_COLUMNS + USER_FEATURES:
        if col not in log.columns:
            raise DataValidationError(f"missing column {col!r}", source=str(path), column=col)
    if len(log) == 0:
        raise DataValidationError("no rounds", source=str(path))
    # OBP sorts by timestamp; a stable sort keeps the file order for equal timestamps
    log = log.sort_values("timestamp", kind="stable").reset_index(drop=True)
    log["policy"] = policy
    log.attrs["source"] = str(path)
    ctx_path = folder / policy / campaign / "item_context.csv"
    item_context = pd.read_csv(ctx_path, index_col=0)
    if "item_id" not in item_context.columns:
        raise DataValidationError("missing column 'item_id'", source=str(ctx_path),
                                  column="item_id")
    dup = item_context["item_id"].duplicated().to_numpy()
    if dup.any():
        raise DataValidationError("duplicate item rows", source=str(ctx_path), column="item_id",
                                  rows=list(np.flatnonzero(dup)))
    item_context = item_context.sort_values("item_id").reset_index(drop=True)
    return log, item_context


def load_obd(policy: str = "random", campaign: str = "all", quiet: bool = False,
             path=None) -> InteractionData:
    """Load an OBD sample as logged bandit feedback (see the module docstring).

    Args:
        policy: ``"random"``, ``"bts"`` or ``"both"`` (random rounds then bts rounds; use the
            ``random_exposure`` split protocol to test on the uniform-random logs).
        campaign: ``"all"``, ``"men"`` or ``"women"``.
        path: a local ``obd`` folder (``{random,bts}/{campaign}/...``) instead of the cache.
    """
    from pathlib import Path

    policies = POLICIES if policy == "both" else (policy,)
    if any(p not in POLICIES for p in policies):
        raise DataValidationError(f"OBD policy must be one of {POLICIES + ('both',)}, "
                                  f"got {policy!r}", column="policy")
    if campaign not in CAMPAIGNS:
        raise DataValidationError(f"OBD campaign must be one of {CAMPAIGNS}, got {campaign!r}",
                                  column="campaign")
    folder = Path(path).expanduser() if path is not None else fetch_artefact(ARTEFACT, quiet=quiet)
    logs, contexts = zip(*(_read_log(folder, p, campaign) for p in policies))
    log = pd.concat(logs, ignore_index=True)
    source = ", ".join(lg.attrs["source"] for lg in logs)
    item_context = contexts[0]
    n_items = int(item_context["item_id"].max()) + 1
    action = log["item_id"].to_numpy(np.int64)
    bad = (action < 0) | (action >= n_items) | ~np.isin(action, item_context["item_id"])
    if bad.any():
        raise DataValidationError("actions not in item_context.csv", source=source,
                                  column="item_id", rows=list(np.flatnonzero(bad)))
    # a user = a distinct user-feature combination, numbered in order of first appearance
    ukey = log[USER_FEATURES[0]].astype(str)
    for col in USER_FEATURES[1:]:
        ukey = ukey + "|" + log[col].astype(str)
    codes, uniques = pd.factorize(ukey, sort=False)
    user_features = log.loc[pd.Series(codes).drop_duplicates().index, list(USER_FEATURES)] \
        .reset_index(drop=True)
    # OBP: position = dense rank of the logged position - 1
    pos_values = np.unique(log["position"].to_numpy())
    position = np.searchsorted(pos_values, log["position"].to_numpy()).astype(np.int64)
    ts = pd.to_datetime(log["timestamp"], utc=True)
    inter = pd.DataFrame({
        "user": codes.astype(np.int64),
        "item": action,
        "label": log["click"].to_numpy(np.float32),
        "propensity": log["propensity_score"].to_numpy(np.float64),
        "position": position,
        "exposure": np.ones(len(log), dtype=np.float64),
        "timestamp": (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(np.float64),
        "policy": log["policy"].to_numpy(dtype=object),
        "round": np.arange(len(log), dtype=np.int64),
    })
    affinity_cols = [c for c in log.columns if c.startswith("user-item_affinity_")]
    affinity = log[affinity_cols].to_numpy(np.float64)
    inter = pd.concat([inter, pd.DataFrame(affinity, columns=[f"affinity_{a}" for a in
                                                               range(affinity.shape[1])])], axis=1)
    items = item_context.set_index("item_id").reindex(range(n_items)).reset_index(drop=True)
    data = InteractionData(
        interactions=inter, n_users=len(uniques), n_items=n_items,
        user_ids=np.asarray(uniques, dtype=object),
        item_ids=np.array([str(i) for i in range(n_items)], dtype=object),
        user_features=user_features, item_features=items,
        name=f"obd-{policy}-{campaign}", source=source,
        meta={"policy": policy, "campaign": campaign, "len_list": len(pos_values)},
    )
    data.item_text = [f"item {i}: " + ", ".join(f"{c}={items.at[i, c]}" for c in items.columns)
                      for i in range(n_items)]
    return data
