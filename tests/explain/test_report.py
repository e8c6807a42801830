"""explain(): the causal part against the graph layer's own answers, the report, explain_many,
CountER fidelity, and text evidence with a real text encoder."""

from __future__ import annotations

import numpy as np
import pytest

from causalrec.explain import causal_evidence, explain, explain_many, fidelity, summarize
from causalrec.graphs import cate, fit, load_graph, mediation, probabilities_of_causation


@pytest.fixture(scope="module")
def network(world):
    spec = load_graph("intent_confounding")
    return fit(spec, world.to_discrete_frame("logs")), spec


def test_causal_part_agrees_with_the_graph_layer(network):
    bn, spec = network
    for intent in (0, 2):
        ev = causal_evidence(bn, spec, {"intent": intent})
        assert ev.effect == pytest.approx(cate(bn, "exposure", "click", {"intent": intent}),
                                          abs=1e-12)
        assert ev.mediator is None and 0 <= ev.pn <= 1 and 0 <= ev.ps <= 1
    # without evidence, PN/PS are the twin-network probabilities of causation
    ev = causal_evidence(bn, spec, {})
    twin = probabilities_of_causation(bn, "exposure", "click", method="twin")
    assert ev.pn == pytest.approx(twin.pn, abs=1e-12)
    assert ev.ps == pytest.approx(twin.ps, abs=1e-12)
    assert "comonotone" in ev.assumption


def test_mediated_split_matches_the_mediation_formula():
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    spec = load_graph("mediation")
    bn = DiscreteBayesianNetwork(list(spec.edges))
    bn.add_cpds(TabularCPD("exposure", 2, [[0.6], [0.4]]),
                TabularCPD("click", 2, [[0.9, 0.6], [0.1, 0.4]], evidence=["exposure"],
                           evidence_card=[2]),
                TabularCPD("purchase", 2, [[0.95, 0.9, 0.5, 0.3], [0.05, 0.1, 0.5, 0.7]],
                           evidence=["click", "exposure"], evidence_card=[2, 2]))
    ev = causal_evidence(bn, spec)
    med = mediation(bn, "exposure", "click", "purchase")
    assert ev.direct == pytest.approx(med["natural_direct"], abs=1e-12)
    assert ev.indirect == pytest.approx(med["natural_indirect"], abs=1e-12)
    assert ev.effect == pytest.approx(med["total"], abs=1e-12) and abs(ev.gap) < 1e-12
    # by hand: NDE = sum_m [P(y|1,m) - P(y|0,m)] P(m|0) = .9*.05 + .1*.2
    assert ev.direct == pytest.approx(0.9 * 0.05 + 0.1 * 0.2)


def test_explain_report_and_explain_many(bpr, network, world):
    rec, data = bpr
    bn, spec = network
    user = rec.user_ids[3]
    item = rec.recommend([user], k=5)["item"].iloc[1]
    intent = world.truth.user_intent
    e = explain(rec, user, item, k=5, data=data, network=bn, graph=spec,
                evidence=lambda u, i: {"intent": int(intent[u])})
    assert e.rank == 2 and e.text is None  # an ID encoder reads no text
    assert e.causal.evidence == {"intent": int(intent[int(rec.user_index([user])[0])])}
    lines = e.summary().splitlines()
    assert lines[0].startswith(f"Item {item} is #2") and lines[-1].startswith("Causal:")
    table = explain_many(rec, users=rec.user_ids[:3], k=5, network=bn, graph=spec,
                         evidence={"intent": 1})
    assert list(table["rank"]) == [1, 1, 1] and {"size", "probes", "effect"} <= set(table)
    with pytest.raises(ValueError, match="needs graph="):
        explain(rec, user, item, k=5, network=bn)
    with pytest.raises(KeyError, match="no column"):
        explain_many(rec, pairs=table[["user"]], k=5)


def test_fidelity_table_and_summary(bpr, world):
    rec, _ = bpr
    top = rec.recommend(list(rec.user_ids[:5]), k=5)
    pairs = list(zip(top[top["rank"] == 1]["user"], top[top["rank"] == 1]["item"]))
    table = fidelity(rec, pairs, k=5, item_topic=world.truth.item_topic)
    found = table[table["found"]]
    assert len(found) >= 2
    assert (found["counterfactual_pn"] == 1).all()                # verified by construction
    assert (found["counterfactual_size"] == found["nearest_neighbour_size"]).all()
    summary = summarize(table).set_index("method")
    pn, ps = summary.loc["nearest_neighbour", ["PN", "PS"]]
    assert summary.loc["nearest_neighbour", "F_NS"] == pytest.approx(
        2 * pn * ps / (pn + ps) if pn + ps else 0.0)
    assert 0 <= summary.loc["counterfactual", "true_share"] <= 1
    assert np.isclose(summary.loc["counterfactual", "PN"], 1.0)
    # every PN/PS of the table equals independent re-scoring: removal through update(), and
    # sufficiency as a new user who has only the set (history_scores)
    import torch

    from causalrec.explain import counterfactual_history, nearest_neighbour_explanation

    for row in found.itertuples():
        u, i = int(rec.user_index([row.user])[0]), int(rec.item_index([row.item])[0])
        seen = torch.from_numpy(rec.seen_items([u])[0].copy())
        cf = counterfactual_history(rec, row.user, row.item, 5).indices
        nn = nearest_neighbour_explanation(rec, row.user, row.item, size=len(cf))
        for name, s_ in (("counterfactual", cf), ("nearest_neighbour", nn)):
            only = rec.history_scores(row.user, s_).clone()
            only[seen] = float("-inf")
            assert getattr(row, f"{name}_ps") == float(int((only > only[i]).sum()) + 1 <= 5)
            rec.update(row.user, remove_items=list(rec.item_ids[s_]))
            without = rec.full_scores(torch.tensor([u]))[0].clone()
            rec.reset(row.user)
            without[seen] = float("-inf")
            assert getattr(row, f"{name}_pn") == float(int((without > without[i]).sum()) + 1 > 5)
