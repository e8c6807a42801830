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
from typing import Any

import numpy as np

from causalrec.ope.bootstrap import bootstrap_means, percentile_interval
from causalrec.ope.feedback import LoggedFeedback
from causalrec.ope.inputs import RoundInputs, round_inputs
from causalrec.ope.tuning import (
    mse_upper_bound,
    slope_select,
    student_t_half_width,
)

#: the candidate grid of the OBP benchmark on the Open Bandit Dataset
OBP_LAMBDAS = (10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, math.inf)


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
        """The per-round terms ``[k, n_rounds]`` whose means :meth:`combine` turns into the
        estimate."""
        raise NotImplementedError

    def combine(self, means: np.ndarray) -> np.ndarray:
        """The estimate from the terms' means ``[..., k]`` (default: the first mean)."""
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
    threshold is tuned by SLOPE over the OBP benchmark grid ``OBP_LAMBDAS`` (10 ... 10000, inf)."""

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
    ``OBP_LAMBDAS`` (10 ... 10000, inf)."""

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
    there (Switch-DR and DRos tuned by SLOPE over ``OBP_LAMBDAS`` (10 ... 10000, inf))."""
    return [DirectMethod(), InverseProbabilityWeighting(),
            SelfNormalizedInverseProbabilityWeighting(), DoublyRobust(),
            SelfNormalizedDoublyRobust(), SwitchDoublyRobust(), DoublyRobustWithShrinkage()]
