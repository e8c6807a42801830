"""The simulator's output is bit-for-bit what it was before the package was split (issue 13).

The expected digests and numbers below were produced by running the simulator as it was
before the split (``causalrec/data/simulate.py`` with ``SimGraph``, commit bbc43c1) with
``_frame_digest`` / ``_text_digest`` exactly as written here, on the same option sets:

    PYTHONPATH=<old checkout> python -c "from causalrec.data.simulate import simulate; ..."

They are a regression oracle: any change to the random streams, the node order, the
equations, the calibration or the table layout changes a digest.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from causalrec.sim import simulate

CASES = {
    "popularity_bias": dict(
        options=dict(n_users=150, n_items=60, per_user=8, seed=0),
        logs="29e0fd7cf422742424ddfe7007c34eb73d0529d278e03e4d7d104f3e5c54f992",
        randomized="2e270336de50b59b9fd0948547561978dd37d7b225263f206cbbc054e9008f5d",
        user_text="8d99e0179cb78fcd988273fdd2d322bf8b5fc8c71321cd2ce4aa857a6ce2942e",
        item_text="6eb1b220d2c9344f768b14997a29a54d72b5278cc46c9b40dc8dddf8b6bb3efd",
        ate=0.15538600687798612, naive=0.23499069020434415,
        randomized_ate=0.09511070814478705, policy_value=0.1539660498791667,
        mediation=("click", 0.1553860068779861, 0.0)),
    "mediation": dict(
        options=dict(n_users=120, n_items=50, per_user=6, seed=1),
        logs="a05cfb690fe2d207c6a05a37ed83c79f6cb800cccb8870bae6171cd83ecbb069",
        randomized="a904b454bad41eb774f379c0d454ac3347f743d191c1bc8ab15c78f60a744901",
        user_text="a20c954ae04ab422c92e09efa3ee73f68b59089304afcbb59c31b6682d7a18c7",
        item_text="8f47081e654188ec89d4e2e95114b257c54839877ea2af8c49a6f32d7ed24cba",
        ate=0.07642305835128044, naive=0.0679973678438254,
        randomized_ate=0.05047706761575854, policy_value=0.0865591041160234,
        mediation=("purchase", 0.021683817399387774, 0.05473924095189264)),
    "intent_confounding": dict(
        options=dict(n_users=100, n_items=40, per_user=5, seed=2, text_noise=0.4),
        logs="6a1de4f5047a42e3283b25c0cf816d3d3390fe9f9725e87bb2dc4bc5b4e8b60c",
        randomized="cba04f9477de4b387e7dcc8c3baeb8a64df8b91c3babdc2a924e98a889e317e6",
        user_text="cbe36b0a9477cdf79b3b2c989623e0236703a0856e6ee666c187b61f97e107d0",
        item_text="26b60b66c04d4e126978dd5b0bbf35ebadf8b190b01d1bc81837c04d314dcc95",
        ate=0.14472826949658696, naive=0.19628428516462376,
        randomized_ate=0.07706285055755936, policy_value=0.17995221595049737,
        mediation=("click", 0.14472826949658696, 0.0)),
}


def _frame_digest(df) -> str:
    h = hashlib.sha256()
    for c in df.columns:
        h.update(str(c).encode())
        h.update(str(df[c].dtype).encode())
        v = df[c].to_numpy()
        if v.dtype == object:
            h.update("\x1f".join(map(str, v)).encode())
        else:
            h.update(np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


def _text_digest(texts) -> str:
    return hashlib.sha256("\x1e".join(texts).encode()).hexdigest()


@pytest.mark.parametrize("graph", sorted(CASES))
def test_simulate_matches_the_pre_split_simulator(graph):
    want = CASES[graph]
    res = simulate(graph, **want["options"])
    assert _frame_digest(res.data.interactions) == want["logs"]
    assert _frame_digest(res.randomized.interactions) == want["randomized"]
    assert _text_digest(res.data.user_text) == want["user_text"]
    assert _text_digest(res.data.item_text) == want["item_text"]
    tr = res.truth
    assert tr.ate == want["ate"] and tr.naive == want["naive"]
    assert tr.randomized["ate"] == want["randomized_ate"]
    scores = np.tile(np.arange(res.data.n_items, dtype=float), (res.data.n_users, 1))
    assert tr.policy_value(scores, 3) == pytest.approx(want["policy_value"], rel=1e-12)
    target, nde, nie = want["mediation"]
    assert tr.mediation[target]["natural_direct"] == pytest.approx(nde, rel=1e-12, abs=1e-15)
    assert tr.mediation[target]["natural_indirect"] == pytest.approx(nie, rel=1e-12, abs=1e-15)
    # the JSON summary in meta carries the same numbers
    assert res.data.meta["truth"]["ate"] == want["ate"]
