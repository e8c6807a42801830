"""Pooling rules against hand-computed values, for left and right padding."""

from __future__ import annotations

import pytest
import torch

from causalrec.encoders.pooling import pool


def _states():
    # two texts: 3 tokens and 2 tokens; hidden size 2; token t of text b has value (b, t)
    right = torch.tensor([[[1.0, 10], [2, 20], [3, 30]],
                          [[4.0, 40], [5, 50], [99, 99]]])
    right_mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    left = torch.tensor([[[1.0, 10], [2, 20], [3, 30]],
                         [[99.0, 99], [4, 40], [5, 50]]])
    left_mask = torch.tensor([[1, 1, 1], [0, 1, 1]])
    return (right, right_mask), (left, left_mask)


@pytest.mark.parametrize("how,expected", [
    ("mean", [[2.0, 20.0], [4.5, 45.0]]),
    ("cls", [[1.0, 10.0], [4.0, 40.0]]),
    ("last", [[3.0, 30.0], [5.0, 50.0]]),
])
def test_pooling_hand_computed_left_and_right(how, expected):
    for hidden, mask in _states():
        assert torch.equal(pool(hidden, mask, how), torch.tensor(expected))


def test_pooling_errors():
    hidden = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        pool(hidden, torch.ones(2, 3), "max")
    with pytest.raises(ValueError, match=r"rows \[1\].*no tokens"):
        pool(hidden, torch.tensor([[1, 0, 0], [0, 0, 0]]), "mean")
    with pytest.raises(ValueError, match="hidden"):
        pool(hidden, torch.ones(2, 4), "mean")
