"""SASRec-style sequence encoder: causal masking, padding, the users' training sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from causalrec.data import InteractionData
from causalrec.encoders import SequenceEncoder
from causalrec.encoders.sequence import user_sequences


def _data():
    inter = pd.DataFrame({
        "user": np.array([0, 0, 0, 1, 1, 2, 0], dtype=np.int64),
        "item": np.array([5, 1, 2, 3, 4, 0, 6], dtype=np.int64),
        "timestamp": np.array([30.0, 10, 20, 5, 1, 7, 40]),
    })
    return InteractionData(inter, n_users=4, n_items=8, name="seq")


def test_user_sequences_are_last_items_by_time():
    seqs = user_sequences(_data(), max_len=3, pad=8).numpy()
    # user 0 by time: 1 (10), 2 (20), 5 (30), 6 (40) -> last 3; user 3 has no history
    np.testing.assert_array_equal(seqs, [[2, 5, 6], [8, 4, 3], [8, 8, 0], [8, 8, 8]])


def test_future_items_do_not_change_earlier_positions():
    torch.manual_seed(0)
    enc = SequenceEncoder(_data(), dim=16, max_len=6, layers=2, heads=2, dropout=0.1).eval()
    seq = torch.tensor([[1, 2, 3, 4, 5, 6]])
    base = enc.forward_sequence(seq)
    for j in range(6):
        changed = seq.clone()
        changed[0, j] = 0
        out = enc.forward_sequence(changed)
        torch.testing.assert_close(out[:, :j], base[:, :j])  # the past is untouched
        assert not torch.allclose(out[:, j:], base[:, j:])   # from j on it changes


def test_left_padding_equals_shorter_sequence():
    torch.manual_seed(1)
    enc = SequenceEncoder(_data(), dim=8, max_len=5, layers=2, heads=1).eval()
    short = enc.forward_sequence(torch.tensor([[3, 1, 4]]))
    padded = enc.forward_sequence(torch.tensor([[8, 8, 3, 1, 4]]))
    assert torch.isfinite(padded).all()
    torch.testing.assert_close(padded[:, 2:], short)
    torch.testing.assert_close(padded[:, :2], torch.zeros_like(padded[:, :2]))


def test_encoder_contract_and_training():
    torch.manual_seed(0)
    data = _data()
    enc = SequenceEncoder(data, dim=8, max_len=4, layers=1, dropout=0.0)
    users = enc.encode_users(torch.arange(4))
    assert users.shape == (4, 8) and enc.all_items().shape == (8, 8)
    torch.testing.assert_close(users[3], torch.zeros(8))  # no history -> no signal
    # the user state is the last position of the user's own sequence
    torch.testing.assert_close(users[0], enc.forward_sequence(enc.sequences[:1])[0, -1])
    # a few steps of BPR-style training separate a user's next item from a random one
    opt = torch.optim.Adam(enc.parameters(), lr=0.05)
    u, pos, neg = torch.tensor([0, 1]), torch.tensor([7, 0]), torch.tensor([0, 7])
    for _ in range(30):
        s = (enc.encode_users(u)[:, None] * enc.encode_items(torch.stack([pos, neg], 1))).sum(-1)
        loss = -torch.nn.functional.logsigmoid(s[:, 0] - s[:, 1]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
