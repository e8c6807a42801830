"""Logged bandit feedback: the validated input of every off-policy estimator.

A log of ``n_rounds`` rounds in which a *behaviour* (logging) policy chose an action
``a_i`` for context ``x_i`` and showed it at slot ``position_i`` of a recommendation list,
the user returned reward ``r_i``, and the logging policy's probability of that choice,
``pscore_i = pi_b(a_i | x_i, position_i)``, was recorded. This is the layout of the Open
Bandit Dataset and of the Open Bandit Pipeline's ``bandit_feedback`` dict (Saito et al.,
"Open Bandit Dataset and Pipeline: Towards Realistic and Reproducible Off-Policy
Evaluation", NeurIPS Datasets and Benchmarks 2021): :meth:`LoggedFeedback.from_obp` reads such
a dict and :meth:`LoggedFeedback.to_obp` writes one. :class:`LoggedFeedback` is the one log
type of :mod:`causalrec.ope`; estimators convert an OBP dict through :func:`as_feedback`, the
one place a dict becomes a log.

Invalid input raises :class:`causalrec.data.DataValidationError` naming the field and the
offending rows; nothing is silently coerced into a different log (strings are not parsed
as numbers, booleans are not indices, a float index must be a whole number).
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


def _error(message: str, name: str | None = None, rows: Any = None) -> DataValidationError:
    return DataValidationError(message, source=_SOURCE, column=name, rows=rows)


def _as_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a numeric array; strings, None and ragged nesting are refused."""
    if value is None:
        raise _error("is missing (None)", name)
    if isinstance(value, str | bytes):
        raise _error(f"must be an array of numbers, got the string {value[:40]!r}", name)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise _error(f"cannot be read as an array of numbers ({exc})", name) from None
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (ValueError, TypeError):
            bad = np.array([not isinstance(v, int | float | np.number) or isinstance(v, bool)
                            for v in arr.ravel()]).reshape(arr.shape)
            rows = _rows(bad.any(axis=tuple(range(1, arr.ndim)))) if arr.ndim else None
            raise _error("must hold numbers only", name, rows) from None
    if arr.dtype.kind not in "biuf":
        raise _error(f"must hold numbers, got dtype {arr.dtype} (strings are not parsed)",
                     name)
    return arr


def _as_1d(name: str, value: Any, n: int | None) -> np.ndarray:
    arr = _as_array(name, value)
    if arr.ndim != 1:
        raise _error(f"must be one-dimensional, got shape {arr.shape}", name)
    if n is not None and arr.shape[0] != n:
        raise _error(f"has {arr.shape[0]} rows but 'action' has {n}", name)
    return arr


def _as_int(name: str, arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise _error("must hold integer indices", name, _rows(bad))
        return arr.astype(np.int64)
    raise _error(f"must hold integer indices, got dtype {arr.dtype}", name)


def _as_float(name: str, arr: np.ndarray, allow_bool: bool) -> np.ndarray:
    if arr.dtype.kind == "b" and not allow_bool:
        raise _error("must hold numbers, got booleans", name)
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise _error("must be finite", name, _rows(bad))
    return arr


def _count(name: str, value: Any, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (``n_actions``, ``len_list``, ``n_rounds``)."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if isinstance(value, float | np.floating) and np.isfinite(value) and value == int(value):
        ok, value = True, int(value)
    if not ok or int(value) < minimum:
        raise _error(f"must be a whole number >= {minimum}, got {value!r}", name)
    return int(value)


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
        """Validate the arrays and build the log (see the class attributes).

        In the example, the policy that always picks action 0 has importance weights
        ``[2, 0, 2, 0]``, so its IPW value is ``mean([2, 0, 0, 0]) = 0.5``.

        Example:
            >>> import numpy as np
            >>> from causalrec.ope import InverseProbabilityWeighting, LoggedFeedback
            >>> log = LoggedFeedback.build(action=[0, 1, 0, 1], reward=[1, 0, 0, 1],
            ...                            pscore=[0.5, 0.5, 0.5, 0.5])
            >>> pi_e = np.zeros((4, 2, 1))
            >>> pi_e[:, 0] = 1.0
            >>> InverseProbabilityWeighting().estimate(log, pi_e, n_bootstrap=2).value
            0.5
            >>> LoggedFeedback.build(action=[0, 1], reward=[1, 0], pscore=[0.5, 0.0])
            Traceback (most recent call last):
            ...
            causalrec.data.schema.DataValidationError: in logged bandit feedback, column 'pscore', rows [1]: propensity scores must lie in (0, 1]; ...
        """
        action = _as_int("action", _as_1d("action", action, None))
        n = action.shape[0]
        if n == 0:
            raise _error("the log is empty", "action")
        reward = _as_float("reward", _as_1d("reward", reward, n), allow_bool=True)
        pscore = _as_1d("pscore", pscore, n)
        if pscore.dtype.kind == "b":
            raise _error("must hold probabilities, got booleans", "pscore")
        pscore = pscore.astype(np.float64, copy=False)
        bad = ~(np.isfinite(pscore) & (pscore > 0) & (pscore <= 1))
        if bad.any():
            raise _error(
                "propensity scores must lie in (0, 1]; the logging policy must give every "
                f"logged action a positive probability (got {pscore[bad][:3].tolist()})",
                "pscore", _rows(bad))
        if position is None:
            position = np.zeros(n, dtype=np.int64)
        else:
            position = _as_int("position", _as_1d("position", position, n))
        for name, arr in (("action", action), ("position", position)):
            bad = arr < 0
            if bad.any():
                raise _error("indices must be non-negative", name, _rows(bad))
        need_a = int(action.max()) + 1
        if n_actions is None:
            n_actions = need_a if action_context is None else \
                len(_as_array("action_context", action_context))
        n_actions = _count("n_actions", n_actions)
        if need_a > n_actions:
            raise _error(f"action index {need_a - 1} is out of range for n_actions={n_actions}",
                         "action", _rows(action >= n_actions))
        need_p = int(position.max()) + 1
        n_positions = need_p if n_positions is None else _count("n_positions", n_positions)
        if need_p > n_positions:
            raise _error(f"position index {need_p - 1} is out of range for "
                         f"n_positions={n_positions}", "position", _rows(position >= n_positions))
        if context is not None:
            context = _as_array("context", context)
            if context.ndim == 1:
                context = context[:, None]
            if context.ndim != 2 or context.shape[0] != n:
                raise _error(f"must have shape [n_rounds={n}, d], got {context.shape}",
                             "context")
            bad = ~np.isfinite(context.astype(np.float64, copy=False)).all(axis=1)
            if bad.any():
                raise _error("must be finite", "context", _rows(bad))
        if action_context is not None:
            action_context = _as_array("action_context", action_context)
            if action_context.ndim != 2 or action_context.shape[0] != n_actions:
                raise _error(f"must have shape [n_actions={n_actions}, d_a], got "
                             f"{action_context.shape}", "action_context")
            bad = ~np.isfinite(action_context.astype(np.float64, copy=False)).all(axis=1)
            if bad.any():
                raise _error("must be finite", "action_context", _rows(bad))
        return cls(action=action, reward=reward, pscore=pscore, position=position,
                   context=context, action_context=action_context, n_actions=n_actions,
                   n_positions=n_positions)

    @classmethod
    def from_obp(cls, bandit_feedback: Mapping[str, Any]) -> LoggedFeedback:
        """Read an Open Bandit Pipeline ``bandit_feedback`` dict (keys ``action``,
        ``reward``, ``pscore`` and optionally ``position``, ``context``,
        ``action_context``, ``n_actions``, ``len_list`` or ``n_positions``, ``n_rounds``;
        other keys, such as OBP's ``expected_reward`` or ``action_dist``, are ignored)."""
        if isinstance(bandit_feedback, LoggedFeedback):
            return bandit_feedback
        if not isinstance(bandit_feedback, Mapping):
            raise _error("bandit feedback must be a dict (OBP's bandit_feedback) or a "
                         f"LoggedFeedback, got {type(bandit_feedback).__name__}")
        missing = [k for k in ("action", "reward", "pscore") if k not in bandit_feedback]
        if missing:
            raise _error(f"missing required key(s) {missing}; got keys "
                         f"{sorted(map(str, bandit_feedback))}")
        n_positions = bandit_feedback.get("n_positions")
        len_list = bandit_feedback.get("len_list")
        if n_positions is not None and len_list is not None and n_positions != len_list:
            raise _error(f"n_positions={n_positions!r} and len_list={len_list!r} disagree",
                         "len_list")
        fb = cls.build(
            action=bandit_feedback["action"], reward=bandit_feedback["reward"],
            pscore=bandit_feedback["pscore"], position=bandit_feedback.get("position"),
            context=bandit_feedback.get("context"),
            action_context=bandit_feedback.get("action_context"),
            n_actions=bandit_feedback.get("n_actions"),
            n_positions=len_list if n_positions is None else n_positions)
        if bandit_feedback.get("n_rounds") is not None:
            n_rounds = _count("n_rounds", bandit_feedback["n_rounds"])
            if n_rounds != fb.n_rounds:
                raise _error(f"n_rounds={n_rounds} but 'action' has {fb.n_rounds} rows",
                             "n_rounds")
        return fb

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

    def to_obp(self) -> dict[str, Any]:
        """The Open Bandit Pipeline ``bandit_feedback`` dict of this log (arrays shared, not
        copied); ``LoggedFeedback.from_obp(fb.to_obp())`` gives the same log."""
        return {"n_rounds": self.n_rounds, "n_actions": self.n_actions,
                "len_list": self.n_positions, "action": self.action, "reward": self.reward,
                "pscore": self.pscore, "position": self.position, "context": self.context,
                "action_context": self.action_context}


def as_feedback(feedback: LoggedFeedback | Mapping[str, Any]) -> LoggedFeedback:
    """The log every estimator reads: a :class:`LoggedFeedback` as is, an OBP
    ``bandit_feedback`` dict through :meth:`LoggedFeedback.from_obp` (the one conversion)."""
    return feedback if isinstance(feedback, LoggedFeedback) else LoggedFeedback.from_obp(feedback)
