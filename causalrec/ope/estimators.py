"""Off-policy estimators: what would an evaluation policy earn, from another policy's logs?

Given logged bandit feedback (:class:`~causalrec.ope.feedback.LoggedFeedback`:
action ``a_i``, slot ``k_i``, reward ``r_i``, propensity ``pi_b(a_i | x_i, k_i)``, context
``x_i``) and the evaluation policy's action distribution ``action_dist[n_rounds,
n_actions, n_positions]`` (``pi_e(a | x_i, k)``, the Open Bandit Pipeline convention), each
estimator returns the estimated policy value ``V(pi_e) = E[sum_a pi_e(a|x,k) q(x,a,k)]``
with a seeded bootstrap confidence interval.

Slots are handled as in the Open Bandit Dataset (Saito et al., NeurIPS Datasets and
Benchmarks 2021): every row is one (action, slot) impression, the importance weight is
``w_i = pi_e(a_i | x_i, k_i) / pi_b(a_i | x_i, k_i)`` at the logged slot, and the reward
model ``q_hat(x, a, k)`` is slot specific, so the value is the mean per-impression reward.

Estimators (``w_hat`` is the modified weight of each estimator, ``q_i = q_hat(x_i, a_i,
k_i)`` and ``q_pi = sum_a pi_e(a|x_i,k_i) q_hat(x_i, a, k_i)``):

=============  ====================================================  =====================
name           value                                                 reference
=============  ====================================================  =====================
``dm``         ``mean(q_pi)``                                        Beygelzimer & Langford 2009
``ipw``        ``mean(min(w, c) r)``                                 Horvitz & Thompson 1952;
                                                                     Precup et al. 2000
``snipw``      ``mean(w r) / mean(w)``                               Swaminathan & Joachims 2015
``dr``         ``mean(q_pi + min(w, c) (r - q_i))``                  Dudik, Langford & Li 2011
``sndr``       ``mean(q_pi) + mean(w (r - q_i)) / mean(w)``          Kallus & Uehara 2019
``switch-dr``  ``mean(q_pi + w 1{w <= lambda} (r - q_i))``           Wang, Agarwal & Dudik 2017
``dr-os``      ``mean(q_pi + lambda w / (w^2 + lambda) (r - q_i))``  Su, Dimakopoulou,
                                                                     Krishnamurthy & Dudik 2020
=============  ====================================================  =====================

Every weighted estimator accepts ``lambda_`` (the clipping cap for IPW/SNIPW/DR/SNDR, the
switching threshold for Switch-DR, the shrinkage for DRos). A sequence of candidates is
tuned on the log by SLOPE or by the MSE bound (:mod:`causalrec.ope.tuning`).

All estimators are smooth functions of a few means of per-round terms, so the bootstrap
resamples only those means (:mod:`causalrec.ope.bootstrap`); and
:class:`OffPolicyEvaluation` shares one resample set across all estimators.

Example (OBD: the Bernoulli-TS policy's value from the uniform-random policy's log)::

    from causalrec.ope import (OffPolicyEvaluation, RewardModel, load_obd_feedback,
                               obd_policy_action_dist)

    log = load_obd_feedback("random", "all")
    pi_e = obd_policy_action_dist("bts", "all")                 # [1, 80, 3]
    q_hat = RewardModel(per_position=False).fit_predict(log)    # cross-fitted
    OffPolicyEvaluation().estimate(log, pi_e, q_hat, n_bootstrap=100, seed=0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from causalrec.data.schema import DataValidationError
from causalrec.ope.bootstrap import bootstrap_means, percentile_interval
from causalrec.ope.feedback import LoggedFeedback, as_feedback
from causalrec.ope.tuning import (
    mse_upper_bound,
    slope_select,
    student_t_half_width,
)

#: the candidate grid of the OBP benchmark on the Open Bandit Dataset
OBP_LAMBDAS = (10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, math.inf)


# --------------------------------------------------------------------------- inputs

def _rows(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)[:5]]


def _at_logged_position(arr: Any, fb: LoggedFeedback, name: str) -> np.ndarray:
    """``arr[i, :, position_i]`` as ``[n_rounds, n_actions]`` (a view where possible).

    Accepts ``[n_rounds, n_actions, n_positions]`` (OBP), ``[1, n_actions, n_positions]``
    (one distribution for every round, e.g. a context-free policy), or 2-D
    ``[n_rounds or 1, n_actions]`` meaning "already at each round's logged position".
    """
    arr = np.asarray(arr, dtype=np.float64)
    n, a = fb.n_rounds, fb.n_actions
    if arr.ndim not in (2, 3) or arr.shape[0] not in (1, n) or arr.shape[1] != a:
        raise DataValidationError(
            f"must have shape [n_rounds={n} (or 1), n_actions={a}, n_positions] or "
            f"[n_rounds, n_actions], got {arr.shape}", source="off-policy evaluation",
            column=name)
    if arr.ndim == 2:
        return np.broadcast_to(arr, (n, a))
    p = arr.shape[2]
    if int(fb.position.max()) >= p:
        raise DataValidationError(
            f"has {p} position(s) but the log shows actions at position "
            f"{int(fb.position.max())}", source="off-policy evaluation", column=name,
            rows=_rows(fb.position >= p))
    if p == 1:
        return np.broadcast_to(arr[:, :, 0], (n, a))
    if arr.shape[0] == 1:
        return arr[0].T[fb.position]
    return arr[np.arange(n), :, fb.position]


@dataclass(frozen=True, eq=False)
class RoundInputs:
    """The per-round quantities every estimator reads (computed once, shared).

    Attributes:
        reward: ``r_i``.
        iw: importance weight ``pi_e(a_i | x_i, k_i) / pi_b(a_i | x_i, k_i)``.
        q_factual: ``q_hat(x_i, a_i, k_i)`` or None without a reward model.
        q_policy: ``sum_a pi_e(a | x_i, k_i) q_hat(x_i, a, k_i)`` or None.
    """

    reward: np.ndarray
    iw: np.ndarray
    q_factual: np.ndarray | None = None
    q_policy: np.ndarray | None = None

    @property
    def n_rounds(self) -> int:
        return int(self.reward.shape[0])

    @cached_property
    def residual(self) -> np.ndarray:
        """``r_i - q_hat(x_i, a_i, k_i)``, computed once for every DR-type estimator and
        tuning candidate."""
        return self.reward - self.q_factual

    def take(self, rows: np.ndarray) -> RoundInputs:
        def pick(x):
            return None if x is None else x[rows]

        return RoundInputs(self.reward[rows], self.iw[rows], pick(self.q_factual),
                           pick(self.q_policy))


def round_inputs(feedback: LoggedFeedback | Mapping[str, Any], action_dist: Any,
                 estimated_rewards: Any | None = None, *, check_dist: bool = True) -> RoundInputs:
    """Compute :class:`RoundInputs` from a log, ``action_dist`` and (optionally) the reward
    model's ``estimated_rewards`` (same shapes as ``action_dist``)."""
    fb = as_feedback(feedback)
    n = fb.n_rounds
    rows = np.arange(n)
    pi = _at_logged_position(action_dist, fb, "action_dist")
    if check_dist:
        bad = (pi < 0).any(axis=1) | ~np.isclose(pi.sum(axis=1), 1.0, atol=1e-6)
        if bad.any():
            raise DataValidationError(
                "each round's action distribution at its logged position must be "
                "non-negative and sum to 1 over actions", source="off-policy evaluation",
                column="action_dist", rows=_rows(bad))
    iw = pi[rows, fb.action] / fb.pscore
    if estimated_rewards is None:
        return RoundInputs(reward=fb.reward, iw=iw)
    q = _at_logged_position(estimated_rewards, fb, "estimated_rewards")
    q_factual = q[rows, fb.action]
    q_policy = np.einsum("ij,ij->i", pi, q)
    # a non-finite q_hat anywhere in a round's row makes q_policy non-finite (inf * 0 and
    # nan * anything are nan), so this checks every entry at the logged position in one pass
    # over n values instead of n * n_actions
    bad = ~np.isfinite(q_policy)
    if bad.any():
        raise DataValidationError("must be finite", source="off-policy evaluation",
                                  column="estimated_rewards", rows=_rows(bad))
    return RoundInputs(reward=fb.reward, iw=iw, q_factual=q_factual, q_policy=q_policy)


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class OPEEstimate:
    """An estimated policy value with its bootstrap interval.

    ``value`` is the estimate on the full log; ``ci_lower``/``ci_upper`` the percentile
    interval of the bootstrap estimates at level ``1 - alpha``; ``std_error`` their standard
    deviation; ``lambda_`` the weight hyperparameter used (after tuning), None if none.
    """

    estimator: str
    value: float
    ci_lower: float
    ci_upper: float
    std_error: float
    alpha: float
    n_bootstrap: int
    lambda_: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- estimators

class OffPolicyEstimator:
    """Base class: an estimator is a function ``combine(mean of terms)`` of per-round terms.

    Subclasses define :meth:`terms` (``[k, n_rounds]``) and :meth:`combine` (means
    ``[..., k]`` -> values ``[...]``), and set ``name`` and ``requires_reward_model``.
    """

    name: str = "estimator"
    requires_reward_model: bool = False

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        raise NotImplementedError

    def combine(self, means: np.ndarray) -> np.ndarray:
        return means[..., 0]

    # resolving tuned hyperparameters is a no-op for estimators without any
    def resolve(self, inputs: RoundInputs) -> OffPolicyEstimator:
        """The estimator with every hyperparameter fixed (tuned on ``inputs`` if needed)."""
        return self

    @property
    def lambda_value(self) -> float | None:
        return None

    def _check(self, inputs: RoundInputs) -> None:
        if self.requires_reward_model and inputs.q_policy is None:
            raise ValueError(f"estimator {self.name!r} needs estimated_rewards from a reward "
                             f"model (see causalrec.ope.RewardModel)")

    def point_estimate(self, inputs: RoundInputs) -> float:
        """The estimate on the full log (no bootstrap)."""
        self._check(inputs)
        est = self.resolve(inputs)
        return float(est.combine(est.terms(inputs).mean(axis=1)))

    def round_rewards(self, inputs: RoundInputs) -> np.ndarray:
        """Per-round contributions whose mean is the estimate (self-normalised estimators
        use the full-log normaliser, as OBP's ``_estimate_round_rewards``)."""
        self._check(inputs)
        est = self.resolve(inputs)
        t = est.terms(inputs)
        means = t.mean(axis=1)
        if t.shape[0] == 1:
            return t[0].copy()
        # linearise combine at the means: exact for the SN estimators' forms used here
        return est._linear_round_values(t, means)

    def _linear_round_values(self, t: np.ndarray, means: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def estimate_inputs(self, inputs: RoundInputs, *, n_bootstrap: int = 100,
                        alpha: float = 0.05, seed: int | None = 0) -> OPEEstimate:
        """Estimate from precomputed :class:`RoundInputs`."""
        self._check(inputs)
        est = self.resolve(inputs)
        t = est.terms(inputs)
        value = float(est.combine(t.mean(axis=1)))
        boot = est.combine(bootstrap_means(t, n_bootstrap, seed))
        lo, hi = percentile_interval(boot, alpha)
        return OPEEstimate(self.name, value, lo, hi, float(np.std(boot, ddof=1))
                           if n_bootstrap > 1 else 0.0, alpha, int(n_bootstrap),
                           est.lambda_value)

    def estimate(self, feedback: LoggedFeedback | Mapping[str, Any], action_dist: Any,
                 estimated_rewards: Any | None = None, *, n_bootstrap: int = 100,
                 alpha: float = 0.05, seed: int | None = 0) -> OPEEstimate:
        """Estimate the value of the policy ``action_dist`` from the logged ``feedback``.

        Args:
            feedback: :class:`LoggedFeedback` (an OBP ``bandit_feedback`` dict is read by
                :meth:`LoggedFeedback.from_obp`).
            action_dist: ``pi_e``, ``[n_rounds, n_actions, n_positions]`` (see
                :func:`round_inputs` for the accepted shapes).
            estimated_rewards: ``q_hat`` with the same layout (DM and the DR family).
            n_bootstrap: bootstrap resamples for the interval.
            alpha: the interval has level ``1 - alpha``.
            seed: the bootstrap seed (same seed, same resamples).
        """
        inputs = round_inputs(feedback, action_dist, estimated_rewards)
        return self.estimate_inputs(inputs, n_bootstrap=n_bootstrap, alpha=alpha, seed=seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class DirectMethod(OffPolicyEstimator):
    """Direct Method: the reward model's value of the evaluation policy, ``mean(q_pi)``
    (Beygelzimer & Langford, "The offset tree for learning with partial labels", KDD 2009;
    Dudik, Langford & Li, ICML 2011)."""

    requires_reward_model = True

    def __init__(self, name: str = "dm"):
        self.name = name

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        return inputs.q_policy[None, :]


class _Weighted(OffPolicyEstimator):
    """An estimator whose importance weights are modified by a hyperparameter ``lambda_``
    (a float, or a sequence of candidates tuned on the log by ``tuning``)."""

    tunable = True

    def __init__(self, lambda_: float | Sequence[float] = math.inf, *, tuning: str = "slope",
                 delta: float = 0.05, name: str | None = None):
        if tuning not in ("slope", "mse"):
            raise ValueError(f"tuning must be 'slope' or 'mse', got {tuning!r}")
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must lie in (0, 1), got {delta}")
        if np.ndim(lambda_) == 0:
            lam = float(lambda_)
            if not lam >= 0:  # also rejects nan
                raise ValueError(f"{type(self).__name__}: lambda_ must be >= 0, got {lambda_}")
            self.lambdas: tuple[float, ...] | None = None
            self.lambda_ = lam
        else:
            cands = tuple(float(x) for x in lambda_)
            if not cands or any(not c >= 0 for c in cands):
                raise ValueError(f"{type(self).__name__}: lambda_ candidates must be a "
                                 f"non-empty sequence of numbers >= 0, got {lambda_}")
            if not self.tunable:
                raise ValueError(f"{type(self).__name__} has several per-round terms; tuning "
                                 "lambda_ is supported for IPW, DR, Switch-DR and DRos")
            self.lambdas = cands
            self.lambda_ = math.nan
        self.tuning = tuning
        self.delta = delta
        if name is not None:
            self.name = name

    @property
    def lambda_value(self) -> float | None:
        return self.lambda_

    def modified_weights(self, iw: np.ndarray, lam: float | None = None) -> np.ndarray:
        raise NotImplementedError

    def _with_lambda(self, lam: float) -> _Weighted:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.lambdas, new.lambda_ = None, float(lam)
        return new

    def resolve(self, inputs: RoundInputs) -> OffPolicyEstimator:
        if self.lambdas is None:
            return self
        self._check(inputs)
        cands = [self._with_lambda(lam) for lam in self.lambdas]
        values = np.stack([c.terms(inputs)[0] for c in cands])
        if self.tuning == "slope":
            best = slope_select(values.mean(axis=1), student_t_half_width(values, self.delta))
        else:
            # the bias the weight modification adds is E[(w - w_hat) r] for IPW, which has no
            # reward model term, and E[(w - w_hat)(r - q_hat)] for the DR family (Su et al.
            # 2020, section 5; OBP's InverseProbabilityWeightingTuning passes no q_hat)
            q = inputs.q_factual if self.requires_reward_model else None
            scores = [mse_upper_bound(values[j], inputs.reward, inputs.iw,
                                      c.modified_weights(inputs.iw), q, self.delta)
                      for j, c in enumerate(cands)]
            best = int(np.argmin(scores))
        return cands[best]

    def __repr__(self) -> str:
        lam = self.lambdas if self.lambdas is not None else self.lambda_
        return f"{type(self).__name__}(lambda_={lam}, name={self.name!r})"


class _Clipped(_Weighted):
    def modified_weights(self, iw: np.ndarray, lam: float | None = None) -> np.ndarray:
        lam = self.lambda_ if lam is None else lam
        return iw if math.isinf(lam) else np.minimum(iw, lam)


class InverseProbabilityWeighting(_Clipped):
    """Inverse probability weighting with weight clipping ``min(w, lambda_)`` (Horvitz &
    Thompson, JASA 1952; Precup, Sutton & Singh, ICML 2000; clipping: Ionides, "Truncated
    importance sampling", JCGS 2008)."""

    name = "ipw"

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        return (self.modified_weights(inputs.iw) * inputs.reward)[None, :]


class SelfNormalizedInverseProbabilityWeighting(_Clipped):
    """Self-normalised IPW ``sum(w r) / sum(w)`` (Swaminathan & Joachims, "The
    self-normalized estimator for counterfactual learning", NeurIPS 2015)."""

    name = "snipw"
    tunable = False

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        w = self.modified_weights(inputs.iw)
        return np.stack([w * inputs.reward, w])

    def combine(self, means: np.ndarray) -> np.ndarray:
        return means[..., 0] / means[..., 1]

    def _linear_round_values(self, t: np.ndarray, means: np.ndarray) -> np.ndarray:
        return t[0] / means[1]


class DoublyRobust(_Clipped):
    """Doubly robust estimator with optional weight clipping (Dudik, Langford & Li,
    "Doubly Robust Policy Evaluation and Learning", ICML 2011; clipping = DR with
    pessimistic shrinkage of Su et al. 2020)."""

    name = "dr"
    requires_reward_model = True

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        w = self.modified_weights(inputs.iw)
        return (inputs.q_policy + w * inputs.residual)[None, :]


class SelfNormalizedDoublyRobust(_Clipped):
    """Self-normalised DR: ``mean(q_pi) + sum(w (r - q)) / sum(w)`` (Kallus & Uehara,
    "Intrinsically Efficient, Stable, and Bounded Off-Policy Evaluation for Reinforcement
    Learning", NeurIPS 2019)."""

    name = "sndr"
    requires_reward_model = True
    tunable = False

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        w = self.modified_weights(inputs.iw)
        return np.stack([inputs.q_policy, w * inputs.residual, w])

    def combine(self, means: np.ndarray) -> np.ndarray:
        return means[..., 0] + means[..., 1] / means[..., 2]

    def _linear_round_values(self, t: np.ndarray, means: np.ndarray) -> np.ndarray:
        return t[0] + t[1] / means[2]


class SwitchDoublyRobust(_Weighted):
    """Switch-DR: DR where ``w <= lambda_``, DM elsewhere (Wang, Agarwal & Dudik, "Optimal
    and Adaptive Off-policy Evaluation in Contextual Bandits", ICML 2017). By default the
    threshold is tuned by SLOPE over the OBP benchmark grid :data:`OBP_LAMBDAS`."""

    name = "switch-dr"
    requires_reward_model = True

    def __init__(self, lambda_: float | Sequence[float] = OBP_LAMBDAS, **kwargs):
        super().__init__(lambda_, **kwargs)

    def modified_weights(self, iw: np.ndarray, lam: float | None = None) -> np.ndarray:
        lam = self.lambda_ if lam is None else lam
        return iw * (iw <= lam)

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        w = self.modified_weights(inputs.iw)
        return (inputs.q_policy + w * inputs.residual)[None, :]


class DoublyRobustWithShrinkage(_Weighted):
    """DR with optimistic shrinkage (DRos): ``w_hat = lambda_ w / (w^2 + lambda_)``, the
    weight that minimises a sharp bound on the DR estimator's MSE (Su, Dimakopoulou,
    Krishnamurthy & Dudik, "Doubly Robust Off-Policy Evaluation with Shrinkage", ICML
    2020). ``lambda_ = 0`` is DM, ``lambda_ = inf`` is DR. By default tuned by SLOPE over
    :data:`OBP_LAMBDAS`."""

    name = "dr-os"
    requires_reward_model = True

    def __init__(self, lambda_: float | Sequence[float] = OBP_LAMBDAS, **kwargs):
        super().__init__(lambda_, **kwargs)

    def modified_weights(self, iw: np.ndarray, lam: float | None = None) -> np.ndarray:
        lam = self.lambda_ if lam is None else lam
        if math.isinf(lam):
            return iw
        if lam == 0:
            return np.zeros_like(iw)
        return lam * iw / (iw ** 2 + lam)

    def terms(self, inputs: RoundInputs) -> np.ndarray:
        w = self.modified_weights(inputs.iw)
        return (inputs.q_policy + w * inputs.residual)[None, :]


def default_estimators() -> list[OffPolicyEstimator]:
    """The seven estimators of the OBP benchmark on the Open Bandit Dataset, configured as
    there (Switch-DR and DRos tuned by SLOPE over :data:`OBP_LAMBDAS`)."""
    return [DirectMethod(), InverseProbabilityWeighting(),
            SelfNormalizedInverseProbabilityWeighting(), DoublyRobust(),
            SelfNormalizedDoublyRobust(), SwitchDoublyRobust(), DoublyRobustWithShrinkage()]


# --------------------------------------------------------------------------- several at once

class OffPolicyEvaluation:
    """Several estimators evaluated on one log, sharing the per-round inputs and one set of
    bootstrap resamples (so their intervals are directly comparable).

    Example::

        ope = OffPolicyEvaluation()                       # the seven OBP estimators
        table = ope.estimate(bandit_feedback, action_dist, q_hat, n_bootstrap=100, seed=0)
    """

    def __init__(self, estimators: Sequence[OffPolicyEstimator] | None = None):
        self.estimators = list(default_estimators() if estimators is None else estimators)
        names = [e.name for e in self.estimators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"estimator names must be unique; repeated: {dup} (pass name=...)")
        if not self.estimators:
            raise ValueError("at least one estimator is needed")

    def _resolve(self, inputs: RoundInputs) -> list[OffPolicyEstimator]:
        missing = [e.name for e in self.estimators
                   if e.requires_reward_model and inputs.q_policy is None]
        if missing:
            raise ValueError(f"estimators {missing} need estimated_rewards from a reward model "
                             "(see causalrec.ope.RewardModel)")
        return [e.resolve(inputs) for e in self.estimators]

    def point_estimates(self, inputs: RoundInputs) -> dict[str, float]:
        """Full-log estimates only (no bootstrap)."""
        return {e.name: float(r.combine(r.terms(inputs).mean(axis=1)))
                for e, r in zip(self.estimators, self._resolve(inputs))}

    def estimate_inputs(self, inputs: RoundInputs, *, n_bootstrap: int = 100,
                        alpha: float = 0.05, seed: int | None = 0) -> pd.DataFrame:
        resolved = self._resolve(inputs)
        blocks = [r.terms(inputs) for r in resolved]
        stacked = np.concatenate(blocks, axis=0)
        boot = bootstrap_means(stacked, n_bootstrap, seed)
        full = stacked.mean(axis=1)
        rows, start = [], 0
        for e, r, b in zip(self.estimators, resolved, blocks):
            k = b.shape[0]
            vals = r.combine(boot[:, start:start + k])
            lo, hi = percentile_interval(vals, alpha)
            rows.append(OPEEstimate(
                e.name, float(r.combine(full[start:start + k])), lo, hi,
                float(np.std(vals, ddof=1)) if n_bootstrap > 1 else 0.0, alpha,
                int(n_bootstrap), r.lambda_value).to_dict())
            start += k
        return pd.DataFrame(rows).set_index("estimator")

    def estimate(self, feedback: LoggedFeedback | Mapping[str, Any], action_dist: Any,
                 estimated_rewards: Any | None = None, *, n_bootstrap: int = 100,
                 alpha: float = 0.05, seed: int | None = 0) -> pd.DataFrame:
        """One row per estimator: ``value``, ``ci_lower``, ``ci_upper``, ``std_error``,
        ``alpha``, ``n_bootstrap``, ``lambda_`` (see :meth:`OffPolicyEstimator.estimate`)."""
        inputs = round_inputs(feedback, action_dist, estimated_rewards)
        return self.estimate_inputs(inputs, n_bootstrap=n_bootstrap, alpha=alpha, seed=seed)

    def relative_errors(self, truth: float, feedback: LoggedFeedback | Mapping[str, Any],
                        action_dist: Any, estimated_rewards: Any | None = None) -> pd.Series:
        """``|V_hat - truth| / |truth|`` of each estimator's full-log estimate (OBP's
        ``relative-ee``)."""
        if truth == 0:
            raise ValueError("the relative error needs a non-zero true policy value")
        inputs = round_inputs(feedback, action_dist, estimated_rewards)
        pe = self.point_estimates(inputs)
        return pd.Series({k: abs(v - truth) / abs(truth) for k, v in pe.items()},
                         name="relative_error")
