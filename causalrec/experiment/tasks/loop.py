"""The ``loop`` task: a head deployed in the simulator and retrained on its own logs.

``causalrec-train experiment=feedback_loop head=ips`` runs :func:`simulate_loop`: round 0 is
the static simulator's log; in each later round the head (encoder + head from the config) is
trained on every row logged so far (warm-started from the previous round by default), a
:class:`~causalrec.recommend.Recommender` scores every item, the deployed policy turns the
scores into exposure probabilities over each user's candidates
(:func:`causalrec.sim.loop.exposure_propensities`), and the world draws what happens. A head
with a ``propensity`` option is given the logged (true) propensities of the loop.

Per round (``round/<r>/<metric>`` in the record; the last round also unprefixed):

- ``value``: true expected outcome per candidate under the deployed policy,
  ``mean(p mu1 + (1 - p) mu0)``; ``shown_effect``: the true mean effect ``mu1 - mu0`` of the
  shown items; ``exposure_rate``;
- ``gini`` and ``tail_share`` of the exposures over items (popularity concentration; the tail
  is the world's least popular 80% of items), ``aggregate_diversity`` (share of items shown
  at least once), ``intra_diversity`` (mean share of a user's shown-item pairs with
  different topics);
- ``prediction_rmse``: the head's predicted outcome under exposure (or, for uplift heads,
  its effect estimate) against the truth on the shown rows;
- ``naive_bias``: the naive offline estimate of the round's policy value (the mean outcome of
  the logged exposed rows for the items the policy shows, "replay" on the biased log) minus
  its true value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict


def _round_metrics(rows: pd.DataFrame, n_items: int, item_pop: np.ndarray,
                   item_topic: np.ndarray) -> dict:
    from ...evaluation.popularity import gini_index, tail_items

    p = rows["propensity"].to_numpy()
    mu0, mu1 = rows["true_mu0"].to_numpy(np.float64), rows["true_mu1"].to_numpy(np.float64)
    shown = rows[rows["exposure"] > 0]
    counts = np.bincount(shown["item"].to_numpy(), minlength=n_items)
    tail = tail_items(item_pop, 0.8)
    pairs_diff, pairs = 0.0, 0
    for _, g in shown.groupby("user", sort=False):
        t = item_topic[g["item"].to_numpy()]
        m = len(t)
        if m > 1:
            same = np.bincount(t).astype(np.float64)
            pairs_diff += (m * (m - 1) - (same * (same - 1)).sum()) / 2
            pairs += m * (m - 1) / 2
    return {"value": float(np.mean(p * mu1 + (1 - p) * mu0)),
            "shown_effect": float((shown["true_mu1"] - shown["true_mu0"]).mean())
            if len(shown) else 0.0,
            "exposure_rate": float(len(shown) / max(len(rows), 1)),
            "gini": gini_index(counts),
            "tail_share": float(counts[tail].sum() / max(counts.sum(), 1)),
            "aggregate_diversity": float((counts > 0).mean()),
            "intra_diversity": float(pairs_diff / pairs) if pairs else 0.0}


def _fit(cfg: DictConfig, data, module):
    """Train the config's encoder + head on ``data`` for ``study.epochs_per_round`` epochs,
    from ``module``'s weights when given (warm start)."""
    import lightning as L
    from hydra.utils import instantiate

    from ...data import CausalRecDataModule
    from ...models.build import build_module, resolve_data_needs

    resolve_data_needs(cfg)
    opts = OmegaConf.to_container(cfg.dataset, resolve=True)
    for key in ("_target_", "source", "name", "seed"):
        opts.pop(key, None)
    dm = CausalRecDataModule(data, seed=int(cfg.seed), **opts)
    dm.setup("fit")
    if module is None:
        module = build_module(cfg, dm.train_data)
    trainer = instantiate(cfg.trainer, max_epochs=int(cfg.study.epochs_per_round),
                          logger=False, enable_checkpointing=False, limit_val_batches=0,
                          num_sanity_val_steps=0, callbacks=[])
    L.seed_everything(int(cfg.seed), verbose=False)
    module.train()  # a warm start comes back from the Recommender in eval mode
    trainer.fit(module, train_dataloaders=dm.train_dataloader())
    return module, dm


def _predictions(head, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The head's estimate on ``rows`` and the truth it estimates."""
    import torch

    from ...heads.pointwise_loss import prediction

    u = torch.as_tensor(rows["user"].to_numpy())
    i = torch.as_tensor(rows["item"].to_numpy())
    with torch.no_grad():
        if hasattr(head, "effect"):
            return (head.effect(u, i).numpy(),
                    (rows["true_mu1"] - rows["true_mu0"]).to_numpy())
        est = prediction(head.score(u, i), getattr(head, "loss_type", "bce")).numpy()
    return est, rows["true_mu1"].to_numpy()


def simulate_loop(cfg: DictConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the closed loop of ``cfg`` (the ``study`` section: rounds, k, candidates, policy,
    temperature, epsilon, epochs_per_round, warm_start, simulator options). Returns the
    per-round metrics and the whole log (every round's rows, ``round`` column)."""
    import time

    import torch

    from ...recommend import Recommender
    from ...sim.loop import LoopWorld

    study = cfg.study
    graph = OmegaConf.to_container(cfg.graph, resolve=True)
    graph.pop("_target_", None)
    sim_opts = OmegaConf.to_container(study.simulator, resolve=True)
    lw = LoopWorld(graph, candidates=study.candidates, seed=int(cfg.seed), **sim_opts)
    if OmegaConf.select(cfg, "head.propensity", default="absent") != "absent":
        with open_dict(cfg):
            cfg.head.propensity = None  # the loop logs the true propensities: use them
    base = lw.result.data
    truth = lw.result.truth
    log = lw.initial_log()
    metrics = [{"round": 0, **_round_metrics(log, lw.n_items, truth.item_popularity,
                                             truth.item_topic)}]
    module = None
    for r in range(1, int(study.rounds)):
        t0 = time.perf_counter()
        data = base.with_interactions(log.reset_index(drop=True))
        module, dm = _fit(cfg, data, module if study.warm_start else None)
        rec = Recommender.from_module(module, dm.train_data)  # uplift heads score by effect
        with torch.no_grad():
            scores = torch.cat([rec.full_scores(torch.arange(s, min(s + 1024, lw.n_users)))
                                for s in range(0, lw.n_users, 1024)]).numpy()
        t1 = time.perf_counter()
        rows = lw.step(r, scores, int(study.k), str(study.policy), float(study.temperature),
                       float(study.epsilon))
        t2 = time.perf_counter()
        m = _round_metrics(rows, lw.n_items, truth.item_popularity, truth.item_topic)
        shown = rows[rows["exposure"] > 0]
        est, true = _predictions(module.head, shown)
        m["prediction_rmse"] = float(np.sqrt(np.mean((est - true) ** 2))) if len(shown) else 0.0
        m["naive_bias"] = _naive_bias(log, shown)
        m["train_seconds"], m["simulate_seconds"] = t1 - t0, t2 - t1
        metrics.append({"round": r, **m})
        log = pd.concat([log, rows], ignore_index=True)
    return pd.DataFrame(metrics), log


def _naive_bias(log: pd.DataFrame, shown: pd.DataFrame) -> float:
    """Replay on the biased log: the mean logged outcome of exposed (user, item) pairs that
    the round's policy shows, minus the true value of what it shows."""
    from ...data.pairs import pair_keys

    logged = log[log["exposure"] > 0]
    n_items = int(max(logged["item"].max(), shown["item"].max())) + 1
    keys = pair_keys(logged["user"].to_numpy(), logged["item"].to_numpy(), n_items)
    want = pair_keys(shown["user"].to_numpy(), shown["item"].to_numpy(), n_items)
    hit = np.isin(keys, want)
    if not hit.any():  # no logged evidence on the shown pairs: the item's logged mean
        by_item = logged.groupby("item")["label"].mean()
        est = float(by_item.reindex(shown["item"]).fillna(logged["label"].mean()).mean())
    else:
        est = float(logged.loc[hit, "label"].mean())
    return est - float(shown["true_mu1"].mean())


def loop_study(cfg: DictConfig) -> dict:
    """The task: per-round metrics into the record (``round/<r>/<name>``, last round plain)."""
    per_round, log = simulate_loop(cfg)
    out: dict = {}
    for row in per_round.to_dict("records"):
        r = int(row.pop("round"))
        # round 0 (the logging policy) has no deployed head: no prediction error or replay
        out.update({f"round/{r}/{k}": float(v) for k, v in row.items() if pd.notna(v)})
    last = per_round.iloc[-1].to_dict()
    out.update({k: float(v) for k, v in last.items() if k != "round"})
    first = per_round.iloc[0]
    out["gini_change"] = float(last["gini"] - first["gini"])
    out["rounds"] = float(len(per_round))
    out["_info"] = {"loop_rows": int(len(log))}
    return out
