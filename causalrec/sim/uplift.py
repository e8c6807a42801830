"""Semi-synthetic uplift protocol on MovieLens-100K (after Sato et al. 2019 and 2020).

Real logs never show both potential outcomes of a recommendation. Sato et al. built
semi-synthetic ones from rating data. Two designs, chosen by ``design``:

``design="sato"`` (default; after the generator of Sato, Takemori, Singh and Ohkuma 2020,
"Unbiased Learning for the Causal Effect of Recommendation", RecSys), over the full user x
item matrix:

1. complete the ratings with biased MF (:func:`causalrec.sim.semisynthetic.fit_mf`):
   predicted rating ``r_hat``;
2. fit a logistic MF to the binary "watched" matrix (1 where a rating exists, every pair
   counted, :func:`fit_logistic_mf`): predicted watch probability ``w_hat``;
3. ``p1 = sigmoid(steepness (r_hat - offset))`` (bought when recommended: how much the user
   would like it once shown) and ``p0 = w_hat ** scaling`` (organic consumption without a
   recommendation). The two come from different signals, so the effect ``p1 - p0`` is not a
   function of the purchase probability: a liked, rarely watched item has a high effect, a
   popular one a low or negative effect;
4. logging propensities by the rank of ``(p0 + p1) / 2`` within each user
   (:func:`logging_propensities`: ``1 / rank**power`` or ``1 / log2(rank + 1)**power``,
   scaled so every user gets ``num_rec`` recommendations in expectation, clipped at 1 and
   re-scaled), then capped to ``[capping, 1 - capping]``;
5. per pair ``R ~ Bernoulli(propensity)``, ``Y1 ~ Bernoulli(p1)``, ``Y0 ~ Bernoulli(p0)``
   (independent), ``Y = R Y1 + (1 - R) Y0``. Every treated or purchased pair is logged; of the
   rest (control negatives, CN) each user keeps ``control_negatives`` chosen uniformly
   (``None``: all), and the row's ``inclusion`` column holds its known inclusion probability
   (1 for every other row). Propensities and truth are exact for every pair.

``design="single_z"`` (the first design, kept so earlier figures reproduce): ``z`` = the
standardised MF-completed rating; ``p0 = sigmoid(a0 + b0 z)``, ``p1 = sigmoid(a1 + b1 z)``,
logging ``sigmoid(c0 + c1 z)`` clipped to ``[pmin, 1 - pmin]``, on ``candidates`` uniform
items per user, ``Y1 = [U < p1]``, ``Y0 = [U < p0]`` with one uniform ``U``. All three derive
from one signal, so the effect is a non-monotone function of the purchase probability.

Every logged row carries ``exposure`` (recommended), ``label`` (purchase), ``propensity`` and
its truth ``true_mu0`` / ``true_mu1`` (``p0``, ``p1``). :class:`UpliftTruth` (``p0``, ``p1``,
``tau`` for every pair) comes back from :func:`simulate_uplift` beside the data; CP@K and
causal DCG against it: :func:`causalrec.evaluation.causal.causal_ranking_metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.schema import InteractionData  # noqa: F401 (the documented return type)
from .semisynthetic import _source_ratings, fit_mf

#: the completion model's options (both designs) and each design's own
COMMON = dict(rank=10, reg=10.0, iters=15)
DESIGNS = {
    "sato": dict(steepness=1.0, offset=5.0, scaling=1.0, mode="rank", power=1.0, num_rec=100,
                 capping=0.01, watch_rank=10, watch_reg=1.0, watch_iters=60,
                 control_negatives=100),
    "single_z": dict(a0=-3.5, b0=1.5, a1=-2.0, b1=0.6, c0=-2.0, c1=1.0, pmin=0.02,
                     candidates=200),
}


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


def _options(design: str, options) -> dict:
    if design not in DESIGNS:
        raise ValueError(f"unknown uplift design {design!r}; known: {sorted(DESIGNS)}")
    options = dict(options or {})
    unknown = set(options) - set(DESIGNS[design])
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)} of uplift design {design!r}; "
                         f"known: {sorted(DESIGNS[design])}")
    opt = {**DESIGNS[design], **options}
    positive = {"sato": ("num_rec", "watch_rank", "watch_iters"),
                "single_z": ("candidates",)}[design]
    for key in positive:
        if not isinstance(opt[key], (int, np.integer)) or opt[key] < 1:
            raise ValueError(f"uplift design {design!r} option {key} must be a positive "
                             f"integer, got {opt[key]!r}")
    if design == "single_z" and not 0 < float(opt["pmin"]) < 0.5:
        raise ValueError(f"uplift design 'single_z' option pmin must lie in (0, 0.5), got "
                         f"{opt['pmin']}")
    if design == "sato":
        if opt["mode"] not in ("rank", "logrank"):
            raise ValueError(f"uplift design 'sato' option mode must be 'rank' or 'logrank', "
                             f"got {opt['mode']!r}")
        if not 0 <= float(opt["capping"]) < 0.5:
            raise ValueError(f"uplift design 'sato' option capping must lie in [0, 0.5), got "
                             f"{opt['capping']}")
        cn = opt["control_negatives"]
        if cn is not None and (not isinstance(cn, (int, np.integer)) or cn < 1):
            raise ValueError(f"uplift design 'sato' option control_negatives must be a "
                             f"positive integer or null (all), got {cn!r}")
        for key in ("scaling", "power"):
            if float(opt[key]) <= 0:
                raise ValueError(f"uplift design 'sato' option {key} must be > 0, got "
                                 f"{opt[key]}")
    return opt


# ============================================================================ Sato's parts
def fit_logistic_mf(watched: np.ndarray, rank: int = 10, reg: float = 1.0, iters: int = 60,
                    lr: float = 0.2, seed: int = 0) -> np.ndarray:
    """Logistic MF of a binary ``[n_users, n_items]`` matrix over every entry: the predicted
    probability ``sigmoid(mu + b_u + c_i + p_u . q_i)``, fitted by full-batch Adam (Kingma
    and Ba 2015) on the mean cross-entropy plus ``reg / n_entries`` times the squared factor
    norms. Seeded and deterministic."""
    w = np.asarray(watched, dtype=np.float64)
    if w.ndim != 2 or not np.isin(w, (0.0, 1.0)).all():
        raise ValueError(f"watched must be a 2-d 0/1 matrix, got shape {w.shape}")
    nu, ni = w.shape
    rng = np.random.default_rng(seed)
    m = float(np.clip(w.mean(), 1e-6, 1 - 1e-6))
    params = [np.array(np.log(m / (1 - m))), np.zeros(nu), np.zeros(ni),
              rng.normal(scale=0.1, size=(nu, rank)), rng.normal(scale=0.1, size=(ni, rank))]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    n = w.size
    for t in range(1, iters + 1):
        mu, bu, bi, p, q = params
        g = (_sigmoid(mu + bu[:, None] + bi[None, :] + p @ q.T) - w) / n
        grads = [np.array(g.sum()), g.sum(1), g.sum(0), g @ q + 2 * reg / n * p,
                 g.T @ p + 2 * reg / n * q]
        for j, gr in enumerate(grads):
            first[j] = 0.9 * first[j] + 0.1 * gr
            second[j] = 0.999 * second[j] + 0.001 * gr ** 2
            step = first[j] / (1 - 0.9 ** t) / (np.sqrt(second[j] / (1 - 0.999 ** t)) + 1e-8)
            params[j] = params[j] - lr * step
    mu, bu, bi, p, q = params
    return _sigmoid(mu + bu[:, None] + bi[None, :] + p @ q.T)


def logging_propensities(score: np.ndarray, num_rec: float, mode: str = "rank",
                         power: float = 1.0) -> np.ndarray:
    """Per user, recommendation probabilities decreasing in the rank of ``score`` (rank 1 =
    highest; ties by position): ``1 / rank**power`` (``mode="rank"``) or
    ``1 / log2(rank + 1)**power`` (``"logrank"``), scaled so each row sums to ``num_rec``;
    entries above 1 are set to 1 and the rest re-scaled until none is (so each row still sums
    to ``num_rec``). Not yet capped."""
    s = np.asarray(score, dtype=np.float64)
    nu, ni = s.shape
    if not 0 < num_rec <= ni:
        raise ValueError(f"num_rec must lie in (0, {ni}] (the items per user), got {num_rec}")
    if mode not in ("rank", "logrank"):
        raise ValueError(f"mode must be 'rank' or 'logrank', got {mode!r}")
    order = np.argsort(-s, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, ni + 1)[None, :].repeat(nu, 0), axis=1)
    base = 1.0 / rank ** power if mode == "rank" else 1.0 / np.log2(rank + 1.0) ** power
    p = base * num_rec / base.sum(1, keepdims=True)
    for _ in range(ni):  # each pass fixes at least one more entry at 1
        full = p >= 1.0
        if not (p > 1.0 + 1e-12).any():
            break
        free = np.where(full, 0.0, base)
        scale = (num_rec - full.sum(1, keepdims=True)) / free.sum(1, keepdims=True)
        p = np.where(full, 1.0, base * scale)
    return np.minimum(p, 1.0)


def _sato(ratings, opt: dict, seed: int, rng) -> tuple[UpliftTruth, pd.DataFrame, dict]:
    df = ratings.interactions
    nu, ni = ratings.n_users, ratings.n_items
    u, i = df["user"].to_numpy(np.int64), df["item"].to_numpy(np.int64)
    r_hat = fit_mf(u, i, df["rating"].to_numpy(np.float64), nu, ni, rank=int(opt["rank"]),
                   reg=float(opt["reg"]), iters=int(opt["iters"]), seed=seed).predict()
    watched = np.zeros((nu, ni))
    watched[u, i] = 1.0
    w_hat = fit_logistic_mf(watched, int(opt["watch_rank"]), float(opt["watch_reg"]),
                            int(opt["watch_iters"]), seed=seed)
    truth = UpliftTruth(p0=w_hat ** float(opt["scaling"]),
                        p1=_sigmoid(float(opt["steepness"]) * (r_hat - float(opt["offset"]))))
    raw = logging_propensities((truth.p0 + truth.p1) / 2, float(opt["num_rec"]),
                               opt["mode"], float(opt["power"]))
    cap = float(opt["capping"])
    prop = np.clip(raw, cap, 1 - cap)
    r = rng.random((nu, ni)) < prop
    y1 = rng.random((nu, ni)) < truth.p1
    y0 = rng.random((nu, ni)) < truth.p0
    y = np.where(r, y1, y0)
    keep = r | y
    inclusion = np.ones((nu, ni))
    if opt["control_negatives"] is not None:
        cn = ~keep
        n_cn = cn.sum(1, keepdims=True)
        k = np.minimum(int(opt["control_negatives"]), n_cn)
        # a uniform subset of k CN pairs per user: the k smallest uniform keys among them
        key = np.where(cn, rng.random((nu, ni)), np.inf)
        kth = np.take_along_axis(np.sort(key, axis=1), np.maximum(k - 1, 0), axis=1)
        keep |= cn & (key <= kth) & (k > 0)
        inclusion = np.where(cn, k / np.maximum(n_cn, 1), 1.0)
    else:
        keep[:] = True
    uu, ii = np.nonzero(keep)
    frame = pd.DataFrame({"user": uu, "item": ii, "label": y[uu, ii].astype(np.int8),
                          "exposure": r[uu, ii].astype(np.int8), "propensity": prop[uu, ii],
                          "inclusion": inclusion[uu, ii]})
    info = {"treated_share_all_pairs": float(r.mean()), "purchase_share_all_pairs":
            float(y.mean()), "logged_pairs_share": float(keep.mean()),
            "mean_p0": float(truth.p0.mean()), "mean_p1": float(truth.p1.mean())}
    return truth, frame, info


def _single_z(ratings, opt: dict, seed: int, rng) -> tuple[UpliftTruth, pd.DataFrame, dict]:
    df = ratings.interactions
    nu, ni = ratings.n_users, ratings.n_items
    model = fit_mf(df["user"].to_numpy(), df["item"].to_numpy(),
                   df["rating"].to_numpy(np.float64), nu, ni, rank=int(opt["rank"]),
                   reg=float(opt["reg"]), iters=int(opt["iters"]), seed=seed)
    full = model.predict()
    z = (full - full.mean()) / full.std()
    truth = UpliftTruth(p0=_sigmoid(opt["a0"] + opt["b0"] * z),
                        p1=_sigmoid(opt["a1"] + opt["b1"] * z))
    m = min(int(opt["candidates"]), ni)
    items = np.argsort(rng.random((nu, ni)), axis=1)[:, :m]
    users = np.repeat(np.arange(nu), m)
    items = items.ravel()
    prop = np.clip(_sigmoid(opt["c0"] + opt["c1"] * z[users, items]), opt["pmin"],
                   1 - opt["pmin"])
    r = rng.random(len(users)) < prop
    u = rng.random(len(users))
    y = np.where(r, u < truth.p1[users, items], u < truth.p0[users, items])
    frame = pd.DataFrame({"user": users, "item": items, "label": y.astype(np.int8),
                          "exposure": r.astype(np.int8), "propensity": prop})
    return truth, frame, {}


def simulate_uplift(source=None, design: str = "sato", seed: int = 0, rank: int = 10,
                    reg: float = 10.0, iters: int = 15, sato=None,
                    single_z=None) -> tuple[InteractionData, UpliftTruth]:
    """The semi-synthetic uplift log and its truth (see the module docstring).

    Args:
        source: the ratings: a registry name (default ``"ml-100k"``) or an InteractionData
            with a ``rating`` column.
        design: ``"sato"`` (default) or ``"single_z"``.
        seed: drives the model fits and every draw (same seed, same log and truth).
        rank, reg, iters: the rating completion (``fit_mf`` in ``causalrec.sim.semisynthetic``).
        sato, single_z: options of each design (defaults: ``DESIGNS`` in this module); only the chosen
            design's are read, and each is checked for unknown keys.
    """
    opt = {**dict(rank=rank, reg=reg, iters=iters),
           **_options(design, sato if design == "sato" else single_z)}
    if design == "sato":  # the other design's block must still be well-formed
        _options("single_z", single_z)
    else:
        _options("sato", sato)
    ratings = _source_ratings(source)
    rng = np.random.default_rng(int(seed))
    truth, frame, info = (_sato if design == "sato" else _single_z)(ratings, opt, int(seed), rng)
    users, items = frame["user"].to_numpy(), frame["item"].to_numpy()
    frame["true_mu0"] = truth.p0[users, items]
    frame["true_mu1"] = truth.p1[users, items]
    meta = {"protocol": f"uplift-semisynthetic, design {design} (Sato et al. 2019/2020)",
            "design": design, "seed": int(seed),
            "options": {k: (float(v) if isinstance(v, float) else v) for k, v in opt.items()},
            "mean_tau": float(truth.tau.mean()),
            "treated_share": float(frame["exposure"].mean()), **info}
    data = ratings.with_interactions(frame, name="ml100k_uplift",
                                     source=f"uplift({ratings.source}, {design})", meta=meta)
    return data, truth


def load_uplift(source=None, **options) -> InteractionData:
    """The ``ml-100k-uplift`` dataset: :func:`simulate_uplift`'s data (same arguments; the
    truth is recomputed from the same options and seed by :func:`simulate_uplift`)."""
    return simulate_uplift(source, **options)[0]
