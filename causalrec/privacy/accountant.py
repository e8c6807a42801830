"""Privacy accounting for DP-SGD with Poisson sampling, on Opacus's accountants.

The spent ε of ``steps`` Poisson-subsampled Gaussian steps (sampling rate ``q``, noise
multiplier ``σ``) is computed by Opacus's own accountants: Rényi DP of the subsampled
Gaussian mechanism (Mironov 2017, "Rényi Differential Privacy"; Mironov, Talwar and Zhang
2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism") or the privacy loss
random variable accountant (Gopi, Lee and Wutschitz 2021, "Numerical Composition of
Differential Privacy"). This module only adds what a training run needs around them: the
noise for a target ε, the largest number of steps a budget allows, and validation of ε and
δ with errors that name the config key.
"""

from __future__ import annotations

import math

ACCOUNTANTS = ("rdp", "prv")


def check_epsilon(epsilon, key: str = "privacy.epsilon") -> float:
    """``epsilon`` as a positive finite float, or a ValueError naming ``key``."""
    try:
        eps = float(epsilon)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number > 0, got {epsilon!r}") from None
    if not eps > 0 or not math.isfinite(eps):
        raise ValueError(f"{key} must be a finite number > 0, got {epsilon!r} (ε <= 0 is no "
                         "budget; for no privacy use privacy=none)")
    return eps


def check_delta(delta, key: str = "privacy.delta") -> float:
    """``delta`` in (0, 1), or a ValueError naming ``key``."""
    try:
        d = float(delta)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number in (0, 1), got {delta!r}") from None
    if not 0 < d < 1:
        raise ValueError(f"{key} must lie in (0, 1), got {delta!r} (δ >= 1 gives no "
                         "guarantee; the usual choice is below 1/number of users)")
    return d


def _opacus_accountant(name: str):
    from opacus.accountants import PRVAccountant, RDPAccountant

    if name == "rdp":
        return RDPAccountant()
    if name == "prv":
        return PRVAccountant()
    raise ValueError(f"privacy.accountant must be one of {ACCOUNTANTS}, got {name!r}")


def epsilon_spent(noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                  accountant: str = "rdp") -> float:
    """ε after ``steps`` subsampled Gaussian steps, from Opacus's accountant (0 steps: 0).

    Example:
        More noise spends less ε; :func:`noise_for_epsilon` and :func:`max_steps` invert
        this function for the noise and for the steps:

        >>> from causalrec.privacy import epsilon_spent, max_steps, noise_for_epsilon
        >>> round(epsilon_spent(1.0, sample_rate=0.01, steps=1000, delta=1e-5), 2)
        2.1
        >>> sigma = noise_for_epsilon(1.0, delta=1e-5, sample_rate=0.01, steps=1000)
        >>> round(sigma, 3), round(epsilon_spent(sigma, 0.01, 1000, 1e-5), 3)
        (1.523, 0.99)
        >>> steps = max_steps(sigma, 0.01, epsilon=1.0, delta=1e-5)
        >>> spent = [epsilon_spent(sigma, 0.01, t, 1e-5) for t in (steps, steps + 1)]
        >>> steps, spent[0] <= 1.0 < spent[1]
        (1019, True)
    """
    if steps <= 0:
        return 0.0
    acc = _opacus_accountant(accountant)
    acc.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    return float(acc.get_epsilon(delta=float(delta)))


def noise_for_epsilon(epsilon: float, delta: float, sample_rate: float, steps: int,
                      accountant: str = "rdp") -> float:
    """The smallest noise multiplier (to Opacus's tolerance 0.01 in ε) whose ``steps``
    steps spend at most ``epsilon`` (Opacus's ``get_noise_multiplier``)."""
    from opacus.accountants.utils import get_noise_multiplier

    return float(get_noise_multiplier(target_epsilon=float(epsilon), target_delta=float(delta),
                                      sample_rate=float(sample_rate), steps=int(steps),
                                      accountant=accountant))


def max_steps(noise_multiplier: float, sample_rate: float, epsilon: float, delta: float,
              accountant: str = "rdp", limit: int = 10**7) -> int:
    """The largest number of steps whose spent ε stays within ``epsilon`` (ε grows with
    the number of steps, so a doubling then bisection search finds it)."""
    def ok(t: int) -> bool:
        return epsilon_spent(noise_multiplier, sample_rate, t, delta, accountant) <= epsilon

    if not ok(1):
        return 0
    lo, hi = 1, 2
    while hi <= limit and ok(hi):
        lo, hi = hi, hi * 2
    if hi > limit:
        return limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def advantage_bound(epsilon: float, delta: float) -> float:
    """Largest membership advantage TPR − FPR any attack can reach against an
    (ε, δ)-DP mechanism: ``(e^ε − 1 + 2δ) / (e^ε + 1)`` (from the hypothesis-testing region
    TPR <= e^ε FPR + δ and 1 − FPR <= e^ε (1 − TPR) + δ of Kairouz, Oh and Viswanath 2015,
    "The Composition Theorem for Differential Privacy", Theorem 2.1; also Humphries et al.
    2023, "Investigating Membership Inference Attacks under Data Dependencies"). Capped at 1;
    ε = inf gives 1.

    Example:
        With δ = 0 the bound is ``tanh(ε / 2)``:

        >>> import math
        >>> from causalrec.privacy import advantage_bound
        >>> round(advantage_bound(1.0, 0.0), 4), round(math.tanh(0.5), 4)
        (0.4621, 0.4621)
        >>> advantage_bound(8.0, 1e-5) > 0.99, advantage_bound(math.inf, 1e-5)
        (True, 1.0)
    """
    if math.isinf(epsilon):
        return 1.0
    e = math.exp(epsilon)
    return min(1.0, (e - 1 + 2 * delta) / (e + 1))
