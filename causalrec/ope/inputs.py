"""The per-round quantities every off-policy estimator reads, computed once from a log.

From logged feedback (:class:`~causalrec.ope.feedback.LoggedFeedback`), the evaluation
policy's ``action_dist`` and (optionally) a reward model's ``estimated_rewards`` - both in the
Open Bandit Pipeline layout ``[n_rounds, n_actions, n_positions]`` - :func:`round_inputs`
gathers, at each round's logged slot, the importance weight ``pi_e(a_i | x_i, k_i) /
pi_b(a_i | x_i, k_i)``, the reward model's ``q_hat(x_i, a_i, k_i)`` and the policy's
expected reward under the model ``sum_a pi_e(a | x_i, k_i) q_hat(x_i, a, k_i)`` (Saito et al.,
"Open Bandit Dataset and Pipeline", NeurIPS Datasets and Benchmarks 2021, for the layout).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from causalrec.data.schema import DataValidationError
from causalrec.ope.feedback import LoggedFeedback, as_feedback


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
