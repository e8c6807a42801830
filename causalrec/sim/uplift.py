"""Semi-synthetic uplift protocol on MovieLens-100K (after Sato et al. 2019 and 2020).

Real logs never show both potential outcomes of a recommendation. Sato et al. built
semi-synthetic ones from rating data: the purchase probability of an item with and without a
recommendation derives from how much the user likes it. Here:

1. complete the ML-100K rating matrix with biased MF (:func:`causalrec.sim.semisynthetic.fit_mf`)
   and standardise it, ``z_ui``;
2. potential outcomes: ``p0_ui = sigmoid(a0 + b0 z_ui)`` (bought without a recommendation:
   users find what they love by themselves) and ``p1_ui = sigmoid(a1 + b1 z_ui)`` (bought
   when recommended); with the defaults ``b0 > b1``, so the effect ``tau = p1 - p0`` is
   largest for moderately liked items and can be negative for the most loved ones - the case
   where ranking by purchase probability recommends items that would be bought anyway;
3. a logging policy recommends what users like, ``P(R = 1) = sigmoid(c0 + c1 z_ui)`` clipped
   to ``[pmin, 1 - pmin]`` (confounded: the same ``z`` drives treatment and outcome);
4. each user's ``candidates`` items (uniform) are logged with ``R ~ Bernoulli(P)`` and the
   outcome ``Y = R Y1 + (1 - R) Y0``, ``Y1 = [U < p1]``, ``Y0 = [U < p0]`` (one uniform ``U``
   couples them), the propensity ``P`` in the ``propensity`` column.

The truth (:class:`UpliftTruth`: ``p0``, ``p1``, ``tau`` for every pair) comes back from
:func:`simulate_uplift` beside the data; causal precision CP@K and causal DCG against it are
:func:`causalrec.evaluation.causal.causal_ranking_metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.schema import InteractionData  # noqa: F401 (the documented return type)
from .semisynthetic import _source_ratings, fit_mf

DEFAULTS = dict(rank=10, reg=10.0, iters=15, a0=-3.5, b0=1.5, a1=-2.0, b1=0.6, c0=-2.0,
                c1=1.0, pmin=0.02, candidates=200, seed=0)


@dataclass
class UpliftTruth:
    """Both potential outcomes' purchase probabilities of every (user, item) pair."""

    p0: np.ndarray
    p1: np.ndarray

    @property
    def tau(self) -> np.ndarray:
        """The effect of recommending, ``p1 - p0`` (``[n_users, n_items]``)."""
        return self.p1 - self.p0


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _options(options: dict) -> dict:
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown uplift protocol options {sorted(unknown)}; known: "
                         f"{sorted(DEFAULTS)}")
    opt = {**DEFAULTS, **options}
    for key in ("rank", "iters", "candidates"):
        if not isinstance(opt[key], (int, np.integer)) or opt[key] < 1:
            raise ValueError(f"uplift protocol option {key} must be a positive integer, got "
                             f"{opt[key]!r}")
    if not 0 < float(opt["pmin"]) < 0.5:
        raise ValueError(f"uplift protocol option pmin must lie in (0, 0.5), got {opt['pmin']}")
    return opt


def simulate_uplift(source=None, **options) -> tuple[InteractionData, UpliftTruth]:
    """The semi-synthetic uplift log and its truth (options: see :data:`DEFAULTS`)."""
    opt = _options(options)
    ratings = _source_ratings(source)
    df = ratings.interactions
    nu, ni = ratings.n_users, ratings.n_items
    model = fit_mf(df["user"].to_numpy(), df["item"].to_numpy(),
                   df["rating"].to_numpy(np.float64), nu, ni, rank=int(opt["rank"]),
                   reg=float(opt["reg"]), iters=int(opt["iters"]), seed=int(opt["seed"]))
    full = model.predict()
    z = (full - full.mean()) / full.std()
    truth = UpliftTruth(p0=_sigmoid(opt["a0"] + opt["b0"] * z),
                        p1=_sigmoid(opt["a1"] + opt["b1"] * z))
    rng = np.random.default_rng(int(opt["seed"]))
    m = min(int(opt["candidates"]), ni)
    items = np.argsort(rng.random((nu, ni)), axis=1)[:, :m]
    users = np.repeat(np.arange(nu), m)
    items = items.ravel()
    prop = np.clip(_sigmoid(opt["c0"] + opt["c1"] * z[users, items]), opt["pmin"],
                   1 - opt["pmin"])
    r = rng.random(len(users)) < prop
    u = rng.random(len(users))
    y1 = u < truth.p1[users, items]
    y0 = u < truth.p0[users, items]
    y = np.where(r, y1, y0)
    frame = pd.DataFrame({"user": users, "item": items, "label": y.astype(np.int8),
                          "exposure": r.astype(np.int8), "propensity": prop})
    meta = {"protocol": "uplift-semisynthetic (Sato et al. 2019/2020)",
            "options": {k: (float(v) if isinstance(v, float) else v) for k, v in opt.items()},
            "mean_tau": float(truth.tau.mean()), "treated_share": float(r.mean())}
    data = ratings.with_interactions(frame, name="ml100k_uplift",
                                     source=f"uplift({ratings.source})", meta=meta)
    return data, truth


def load_uplift(source=None, **options) -> InteractionData:
    """The ``ml-100k-uplift`` dataset: :func:`simulate_uplift`'s data (the truth is
    recomputed from the same options and seed by :func:`simulate_uplift`)."""
    return simulate_uplift(source, **options)[0]
