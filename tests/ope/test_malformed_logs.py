"""Malformed logged bandit feedback (issue 14): every bad input gives a DataValidationError
whose message names the field (and the rows, where rows are at fault).

A table of hand-written cases (one valid OBP-style dict, one field broken per case), then
property-based cases with hypothesis (a random valid log with one broken entry at a random
row must be refused at exactly that row; any valid log round-trips through to_obp/from_obp).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalrec.data import DataValidationError
from causalrec.ope import InverseProbabilityWeighting, LoggedFeedback

VALID = {"action": [0, 1, 2, 1], "reward": [1, 0, 1, 0], "pscore": [0.5, 0.25, 0.5, 0.2],
         "position": [0, 1, 0, 1], "n_actions": 3, "len_list": 2}


def _with(**changes):
    d = dict(VALID)
    for k, v in changes.items():
        if v is _DROP:
            d.pop(k)
        else:
            d[k] = v
    return d


_DROP = object()

# (case id, input, field named in the message or None, regex the message must match)
CASES = [
    ("none", None, None, r"must be a dict .* got NoneType"),
    ("list", [1, 2, 3], None, r"must be a dict .* got list"),
    ("string", "action,reward", None, r"must be a dict .* got str"),
    ("missing-action", _with(action=_DROP), None, r"missing required key\(s\) \['action'\]"),
    ("missing-reward", _with(reward=_DROP), None, r"missing required key\(s\) \['reward'\]"),
    ("missing-pscore", _with(pscore=_DROP), None, r"missing required key\(s\) \['pscore'\]"),
    ("pscore-strings", _with(pscore=["0.5", "0.25", "0.5", "0.2"]), "pscore",
     r"must hold numbers, got dtype <U4 \(strings are not parsed\)"),
    ("pscore-one-string", _with(pscore="0.5"), "pscore", r"got the string '0.5'"),
    ("pscore-none", _with(pscore=None), "pscore", r"is missing \(None\)"),
    ("pscore-nan", _with(pscore=[0.5, 0.25, np.nan, 0.2]), "pscore", r"rows \[2\]: .*\(0, 1\]"),
    ("pscore-negative", _with(pscore=[0.5, -0.25, 0.5, 0.2]), "pscore", r"rows \[1\]"),
    ("pscore-zero", _with(pscore=[0.0, 0.25, 0.5, 0.2]), "pscore", r"rows \[0\]"),
    ("pscore-above-one", _with(pscore=[0.5, 0.25, 0.5, 1.5]), "pscore",
     r"rows \[3\]: .*got \[1\.5\]"),
    ("pscore-inf", _with(pscore=[np.inf, 0.25, 0.5, 0.2]), "pscore", r"rows \[0\]"),
    ("pscore-bool", _with(pscore=[True, True, True, True]), "pscore", r"got booleans"),
    ("pscore-short", _with(pscore=[0.5, 0.25, 0.5]), "pscore", r"has 3 rows but 'action' has 4"),
    ("pscore-mixed-objects", _with(pscore=[0.5, "x", 0.5, 0.2]), "pscore", r"dtype <U"),
    ("reward-short", _with(reward=[1, 0]), "reward", r"has 2 rows but 'action' has 4"),
    ("reward-nan", _with(reward=[1, np.nan, 1, 0]), "reward", r"rows \[1\]: must be finite"),
    ("reward-inf", _with(reward=[1, 0, 1, -np.inf]), "reward", r"rows \[3\]: must be finite"),
    ("reward-strings", _with(reward=["1", "0", "1", "0"]), "reward", r"dtype <U1"),
    ("reward-none-entry", _with(reward=np.array([1, None, 1, 0], dtype=object)), "reward",
     r"rows \[1\]: must be finite"),
    ("position-long", _with(position=[0, 1, 0, 1, 0]), "position",
     r"has 5 rows but 'action' has 4"),
    ("action-out-of-range", _with(action=[0, 1, 3, 1]), "action",
     r"rows \[2\]: action index 3 is out of range for n_actions=3"),
    ("action-negative", _with(action=[0, -1, 2, 1]), "action",
     r"rows \[1\]: indices must be non-negative"),
    ("action-fractional", _with(action=[0, 1.5, 2, 1]), "action",
     r"rows \[1\]: must hold integer indices"),
    ("action-nan", _with(action=[0, 1, np.nan, 1]), "action",
     r"rows \[2\]: must hold integer indices"),
    ("action-strings", _with(action=["a", "b", "c", "b"]), "action", r"dtype <U1"),
    ("action-bool", _with(action=[True, False, True, False]), "action",
     r"integer indices, got dtype bool"),
    ("action-2d", _with(action=[[0, 1], [2, 1]]), "action",
     r"must be one-dimensional, got shape \(2, 2\)"),
    ("action-scalar", _with(action=1), "action", r"must be one-dimensional, got shape \(\)"),
    ("action-ragged", _with(action=[[0, 1], [2]]), "action", r"cannot be read as an array"),
    ("action-empty", _with(action=[], reward=[], pscore=[], position=[]), "action",
     r"the log is empty"),
    ("position-negative", _with(position=[0, -3, 0, 1]), "position",
     r"rows \[1\]: indices must be non-negative"),
    ("position-out-of-range", _with(position=[0, 1, 2, 1]), "position",
     r"rows \[2\]: position index 2 is out of range for n_positions=2"),
    ("position-fractional", _with(position=[0, 0.5, 0, 1]), "position",
     r"rows \[1\]: must hold integer indices"),
    ("position-strings", _with(position=["top", "mid", "top", "mid"]), "position",
     r"dtype <U3"),
    ("n-actions-zero", _with(n_actions=0), "n_actions", r"whole number >= 1, got 0"),
    ("n-actions-string", _with(n_actions="3"), "n_actions", r"whole number >= 1, got '3'"),
    ("n-actions-fraction", _with(n_actions=2.5), "n_actions", r"whole number >= 1, got 2\.5"),
    ("n-actions-bool", _with(n_actions=True), "n_actions", r"whole number >= 1, got True"),
    ("len-list-zero", _with(len_list=0), "n_positions", r"whole number >= 1, got 0"),
    ("len-list-disagrees", _with(n_positions=3), "len_list",
     r"n_positions=3 and len_list=2 disagree"),
    ("n-rounds-mismatch", _with(n_rounds=5), "n_rounds",
     r"n_rounds=5 but 'action' has 4 rows"),
    ("n-rounds-string", _with(n_rounds="4"), "n_rounds", r"whole number >= 1, got '4'"),
    ("context-rows", _with(context=np.zeros((3, 2))), "context",
     r"must have shape \[n_rounds=4, d\], got \(3, 2\)"),
    ("context-nan", _with(context=np.array([[0.0], [1.0], [np.nan], [0.0]])), "context",
     r"rows \[2\]: must be finite"),
    ("context-strings", _with(context=[["a"], ["b"], ["a"], ["b"]]), "context", r"dtype <U1"),
    ("action-context-rows", _with(action_context=np.eye(2)), "action_context",
     r"must have shape \[n_actions=3, d_a\], got \(2, 2\)"),
    ("action-context-inf", _with(action_context=np.array([[0.0], [np.inf], [1.0]])),
     "action_context", r"rows \[1\]: must be finite"),
]


def test_case_count():
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_log_is_refused_naming_the_field(case):
    _, bad, field, pattern = case
    with pytest.raises(DataValidationError) as info:
        LoggedFeedback.from_obp(bad)
    msg = str(info.value)
    assert msg.startswith("in logged bandit feedback"), msg
    if field is not None:
        assert info.value.column == field
        assert f"column {field!r}" in msg, msg
    assert re.search(pattern, msg), msg


@pytest.mark.parametrize("case", CASES[:12], ids=[c[0] for c in CASES[:12]])
def test_estimators_refuse_the_same_logs(case):
    """Estimators take a LoggedFeedback; a dict goes through from_obp (the one place)."""
    _, bad, _, pattern = case
    pi = np.full((1, 3, 2), 1 / 3)
    with pytest.raises(DataValidationError, match=pattern):
        InverseProbabilityWeighting().estimate(bad, pi, n_bootstrap=2)


def test_valid_log_round_trips_and_is_accepted():
    fb = LoggedFeedback.from_obp(VALID)
    again = LoggedFeedback.from_obp(fb.to_obp())
    for name in ("action", "reward", "pscore", "position"):
        np.testing.assert_array_equal(getattr(fb, name), getattr(again, name))
    assert (again.n_actions, again.n_positions, again.n_rounds) == (3, 2, 4)
    assert fb.to_obp()["len_list"] == 2 and fb.to_obp()["n_rounds"] == 4
    assert LoggedFeedback.from_obp(fb) is fb


@st.composite
def valid_logs(draw):
    n = draw(st.integers(1, 40))
    n_actions = draw(st.integers(1, 6))
    n_positions = draw(st.integers(1, 3))
    action = draw(st.lists(st.integers(0, n_actions - 1), min_size=n, max_size=n))
    position = draw(st.lists(st.integers(0, n_positions - 1), min_size=n, max_size=n))
    reward = draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n))
    pscore = draw(st.lists(st.floats(1e-6, 1.0), min_size=n, max_size=n))
    return {"action": action, "reward": reward, "pscore": pscore, "position": position,
            "n_actions": n_actions, "len_list": n_positions}


BROKEN = {
    "pscore": [np.nan, 0.0, -0.1, 1.0 + 1e-9, 2.0, np.inf],
    "reward": [np.nan, np.inf, -np.inf],
    "action": [-1, 0.5, np.nan],
    "position": [-1, 0.25],
}


@settings(max_examples=60, deadline=None)
@given(log=valid_logs(), data=st.data())
def test_one_broken_entry_is_refused_at_its_row(log, data):
    field = data.draw(st.sampled_from(sorted(BROKEN)))
    value = data.draw(st.sampled_from(BROKEN[field]))
    row = data.draw(st.integers(0, len(log["action"]) - 1))
    arr = np.asarray(log[field], dtype=np.float64)
    arr[row] = value
    with pytest.raises(DataValidationError) as info:
        LoggedFeedback.from_obp({**log, field: arr})
    assert info.value.column == field
    assert info.value.rows == [row]


@settings(max_examples=40, deadline=None)
@given(log=valid_logs(), extra=st.integers(1, 3))
def test_length_mismatch_names_the_field(log, extra):
    for field in ("reward", "pscore", "position"):
        longer = list(log[field]) + list(log[field][:1]) * extra
        with pytest.raises(DataValidationError, match=rf"column '{field}': has "
                           rf"{len(longer)} rows but 'action' has {len(log['action'])}"):
            LoggedFeedback.from_obp({**log, field: longer})


@settings(max_examples=40, deadline=None)
@given(log=valid_logs())
def test_any_valid_log_is_accepted_and_round_trips(log):
    fb = LoggedFeedback.from_obp(log)
    back = LoggedFeedback.from_obp(fb.to_obp())
    np.testing.assert_array_equal(back.action, log["action"])
    np.testing.assert_array_equal(back.pscore, np.asarray(log["pscore"], dtype=np.float64))
    assert back.n_actions == log["n_actions"] and back.n_positions == log["len_list"]
