"""Logged bandit feedback: the validated input of every off-policy estimator.

A log of ``n_rounds`` rounds in which a *behaviour* (logging) policy chose an action
``a_i`` for context ``x_i`` and showed it at slot ``position_i`` of a recommendation list,
the user returned reward ``r_i``, and the logging policy's probability of that choice,
``pscore_i = pi_b(a_i | x_i, position_i)``, was recorded. This is the layout of the Open
Bandit Dataset and of the Open Bandit Pipeline's ``bandit_feedback`` dict (Saito et al.,
"Open Bandit Dataset and Pipeline: Towards Realistic and Reproducible Off-Policy
Evaluation", NeurIPS Datasets and Benchmarks 2021), which :meth:`LoggedFeedback.from_dict`
reads directly.

Invalid input raises :class:`causalrec.data.DataValidationError` naming the field and the
offending rows; nothing is silently coerced into a different log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from causalrec.data.schema import DataValidationError

_SOURCE = "logged bandit feedback"


def _rows(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)[:5]]


def _as_1d(name: str, value: Any, n: int | None) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise DataValidationError(f"must be one-dimensional, got shape {arr.shape}",
                                  source=_SOURCE, column=name)
    if n is not None and arr.shape[0] != n:
        raise DataValidationError(f"has {arr.shape[0]} rows but 'action' has {n}",
                                  source=_SOURCE, column=name)
    return arr


def _as_int(name: str, arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise DataValidationError("must hold integer indices", source=_SOURCE,
                                      column=name, rows=_rows(bad))
        return arr.astype(np.int64)
    raise DataValidationError(f"must hold integer indices, got dtype {arr.dtype}",
                              source=_SOURCE, column=name)


@dataclass(frozen=True, eq=False)
class LoggedFeedback:
    """Validated logged bandit feedback (one row per shown action).

    Attributes:
        action: int64 ``[n_rounds]``, the logged action (item index) ``a_i``.
        reward: float64 ``[n_rounds]``, the observed reward ``r_i`` (a click for OBD).
        pscore: float64 ``[n_rounds]`` in ``(0, 1]``, ``pi_b(a_i | x_i, position_i)``.
        position: int64 ``[n_rounds]``, the slot the action was shown in (zeros when the
            log has a single slot).
        context: optional float ``[n_rounds, d]`` context features ``x_i``.
        action_context: optional ``[n_actions, d_a]`` features of every action.
        n_actions: number of actions (at least ``action.max() + 1``).
        n_positions: number of slots (at least ``position.max() + 1``).
    """

    action: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    position: np.ndarray
    context: np.ndarray | None
    action_context: np.ndarray | None
    n_actions: int
    n_positions: int

    @classmethod
    def build(cls, action, reward, pscore, position=None, context=None, action_context=None,
              n_actions: int | None = None, n_positions: int | None = None) -> LoggedFeedback:
        """Validate the arrays and build the log (see the class attributes)."""
        action = _as_int("action", _as_1d("action", action, None))
        n = action.shape[0]
        if n == 0:
            raise DataValidationError("the log is empty", source=_SOURCE, column="action")
        reward = _as_1d("reward", reward, n).astype(np.float64, copy=False)
        bad = ~np.isfinite(reward)
        if bad.any():
            raise DataValidationError("must be finite", source=_SOURCE, column="reward",
                                      rows=_rows(bad))
        pscore = _as_1d("pscore", pscore, n).astype(np.float64, copy=False)
        bad = ~(np.isfinite(pscore) & (pscore > 0) & (pscore <= 1))
        if bad.any():
            raise DataValidationError(
                "propensity scores must lie in (0, 1]; the logging policy must give every "
                "logged action a positive probability", source=_SOURCE, column="pscore",
                rows=_rows(bad))
        if position is None:
            position = np.zeros(n, dtype=np.int64)
        else:
            position = _as_int("position", _as_1d("position", position, n))
        for name, arr in (("action", action), ("position", position)):
            bad = arr < 0
            if bad.any():
                raise DataValidationError("indices must be non-negative", source=_SOURCE,
                                          column=name, rows=_rows(bad))
        need_a = int(action.max()) + 1
        if n_actions is None:
            n_actions = need_a if action_context is None else int(np.shape(action_context)[0])
        if need_a > n_actions:
            raise DataValidationError(f"action index {need_a - 1} is out of range for "
                                      f"n_actions={n_actions}", source=_SOURCE,
                                      column="action", rows=_rows(action >= n_actions))
        need_p = int(position.max()) + 1
        n_positions = need_p if n_positions is None else int(n_positions)
        if need_p > n_positions:
            raise DataValidationError(f"position index {need_p - 1} is out of range for "
                                      f"n_positions={n_positions}", source=_SOURCE,
                                      column="position", rows=_rows(position >= n_positions))
        if context is not None:
            context = np.asarray(context)
            if context.ndim == 1:
                context = context[:, None]
            if context.ndim != 2 or context.shape[0] != n:
                raise DataValidationError(f"must have shape [n_rounds={n}, d], got "
                                          f"{context.shape}", source=_SOURCE, column="context")
        if action_context is not None:
            action_context = np.asarray(action_context)
            if action_context.ndim != 2 or action_context.shape[0] != n_actions:
                raise DataValidationError(
                    f"must have shape [n_actions={n_actions}, d_a], got {action_context.shape}",
                    source=_SOURCE, column="action_context")
        return cls(action=action, reward=reward, pscore=pscore, position=position,
                   context=context, action_context=action_context, n_actions=int(n_actions),
                   n_positions=n_positions)

    @classmethod
    def from_dict(cls, bandit_feedback: Mapping[str, Any]) -> LoggedFeedback:
        """Read an OBP-style ``bandit_feedback`` dict (keys ``action``, ``reward``,
        ``pscore`` and optionally ``position``, ``context``, ``action_context``,
        ``n_actions``, ``len_list``/``n_positions``)."""
        if isinstance(bandit_feedback, LoggedFeedback):
            return bandit_feedback
        missing = [k for k in ("action", "reward", "pscore") if k not in bandit_feedback]
        if missing:
            raise DataValidationError(f"missing required key(s) {missing}; got keys "
                                      f"{sorted(bandit_feedback)}", source=_SOURCE)
        n_positions = bandit_feedback.get("n_positions", bandit_feedback.get("len_list"))
        return cls.build(
            action=bandit_feedback["action"], reward=bandit_feedback["reward"],
            pscore=bandit_feedback["pscore"], position=bandit_feedback.get("position"),
            context=bandit_feedback.get("context"),
            action_context=bandit_feedback.get("action_context"),
            n_actions=bandit_feedback.get("n_actions"), n_positions=n_positions)

    @property
    def n_rounds(self) -> int:
        return int(self.action.shape[0])

    def take(self, rows: np.ndarray) -> LoggedFeedback:
        """The log restricted to (or resampled at) ``rows`` (e.g. bootstrap indices)."""
        rows = np.asarray(rows)
        return LoggedFeedback(
            action=self.action[rows], reward=self.reward[rows], pscore=self.pscore[rows],
            position=self.position[rows],
            context=None if self.context is None else self.context[rows],
            action_context=self.action_context, n_actions=self.n_actions,
            n_positions=self.n_positions)

    def to_dict(self) -> dict[str, Any]:
        """The OBP-style ``bandit_feedback`` dict of this log."""
        return {"n_rounds": self.n_rounds, "n_actions": self.n_actions,
                "len_list": self.n_positions, "action": self.action, "reward": self.reward,
                "pscore": self.pscore, "position": self.position, "context": self.context,
                "action_context": self.action_context}


def as_feedback(feedback: LoggedFeedback | Mapping[str, Any]) -> LoggedFeedback:
    """Accept a :class:`LoggedFeedback` or an OBP-style dict."""
    return feedback if isinstance(feedback, LoggedFeedback) else LoggedFeedback.from_dict(feedback)
