"""The OBD logs as LoggedFeedback (causalrec.ope.obd), with OBP's default pre-processing."""

from __future__ import annotations

import numpy as np

from causalrec.ope import LoggedFeedback, load_obd_feedback, obd_feedback, obd_on_policy_value


def test_obd_random_log_as_logged_feedback():
    import causalrec.data as crd

    data = crd.load("obd", policy="random", campaign="all", quiet=True)
    fb = obd_feedback(data)
    assert isinstance(fb, LoggedFeedback)
    assert (fb.n_rounds, fb.n_actions, fb.n_positions) == (10_000, 80, 3)
    assert fb.reward.sum() == 38 and np.allclose(fb.pscore, 1 / 80)
    # rows follow OBD's rounds: the actions and clicks of the interaction table, in order
    inter = data.interactions.sort_values("round")
    np.testing.assert_array_equal(fb.action, inter["item"].to_numpy())
    np.testing.assert_array_equal(fb.position, inter["position"].to_numpy())
    # OBP's context: one-hot user features, first level dropped (one row per round)
    assert fb.context.shape == (10_000, 2 + 4 + 7 + 7)
    assert set(np.unique(fb.context)) <= {0.0, 1.0}
    assert fb.action_context.shape == (80, 4)
    obp = fb.to_obp()
    assert obp["len_list"] == 3 and obp["n_rounds"] == 10_000
    np.testing.assert_array_equal(load_obd_feedback("random", "all", quiet=True).reward,
                                  fb.reward)
    assert obd_on_policy_value("random", "all", quiet=True) == 38 / 10_000
