"""Graph specs: shipped configs load, validation errors name the file and the node."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from causalrec.graphs import GraphSpec, GraphValidationError, available_graphs, load_graph

SHIPPED = ["browse_purchase_rating", "conformity", "intent_confounding", "mediation",
           "popularity_bias"]

BASE = {
    "name": "toy",
    "description": "a toy graph",
    "treatment": "x",
    "outcome": "y",
    "nodes": [
        {"name": "z", "states": [0, 1], "role": "confounder", "description": "confounder"},
        {"name": "x", "states": [0, 1], "role": "treatment"},
        {"name": "y", "cardinality": 3, "role": "outcome"},
    ],
    "edges": [["z", "x"], ["z", "y"], ["x", "y"]],
}


def _write(tmp_path, data, name="g.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


def _mutate(**changes):
    d = yaml.safe_load(yaml.safe_dump(BASE))
    d.update(changes)
    return d


def test_shipped_graphs_load_with_their_declared_structure():
    assert set(SHIPPED) <= set(available_graphs())
    g = load_graph("intent_confounding")
    assert (g.treatment, g.outcome) == ("exposure", "click")
    assert set(g.edges) == {("intent", "exposure"), ("intent", "click"), ("exposure", "click")}
    assert g.latents == ["intent"] and g["intent"].states == (0, 1, 2)
    assert g.source == "conf/graph/intent_confounding.yaml"
    m = load_graph("mediation")
    assert m.mediator == "click"
    assert set(m.edges) == {("exposure", "click"), ("click", "purchase"),
                            ("exposure", "purchase")}
    p = load_graph("popularity_bias")
    assert set(p.parents("click")) == {"popularity", "intent", "exposure"}
    b = load_graph("browse_purchase_rating")
    assert set(b.children("intent")) == {"browse", "purchase", "rating"}
    assert b["rating"].states == (1, 2, 3, 4, 5)
    c = load_graph("conformity")
    assert set(c.parents("click")) == {"interest", "conformity", "exposure"}


def test_load_by_path_and_mapping_and_roundtrip(tmp_path):
    path = _write(tmp_path, BASE)
    g = load_graph(path)
    assert g.source == str(path) and g["y"].states == (0, 1, 2)
    assert load_graph(g.to_dict()) == g.__class__.from_dict(g.to_dict())
    assert load_graph(str(path)).edges == g.edges


def test_hydra_instantiate_builds_the_spec():
    from hydra import compose, initialize_config_module
    from hydra.utils import instantiate

    with initialize_config_module("causalrec.conf", version_base=None):
        cfg = compose("config", overrides=["graph=popularity_bias"])
    spec = instantiate(cfg.graph)
    assert isinstance(spec, GraphSpec)
    assert spec.edges == load_graph("popularity_bias").edges
    assert load_graph(cfg.graph).nodes == spec.nodes


def test_to_pgmpy_has_latents_and_roles():
    bn, dag = load_graph("popularity_bias").to_pgmpy()
    assert bn.latents == {"intent"} and set(bn.nodes()) == {"popularity", "intent", "exposure",
                                                           "click"}
    roles = dag.get_role_dict()
    assert roles["exposures"] == ["exposure"] and roles["outcomes"] == ["click"]
    assert set(roles["confounder"]) == {"popularity", "intent"}
    assert dag.latents == {"intent"}


def test_cycle_is_listed(tmp_path):
    d = _mutate(edges=[["z", "x"], ["x", "y"], ["y", "z"]])
    with pytest.raises(GraphValidationError, match=r"g\.yaml.*cycle.*z -> x -> y -> z"):
        load_graph(_write(tmp_path, d))


def test_unknown_node_in_edge(tmp_path):
    d = _mutate(edges=[["z", "x"], ["x", "w"]])
    with pytest.raises(GraphValidationError, match=r"g\.yaml: edge #1 x -> w names unknown node 'w'"):
        load_graph(_write(tmp_path, d))


def test_duplicate_node(tmp_path):
    d = _mutate()
    d["nodes"].append({"name": "z", "states": [0, 1]})
    with pytest.raises(GraphValidationError, match=r"g\.yaml: node 'z' is declared twice"):
        load_graph(_write(tmp_path, d))


@pytest.mark.parametrize("key", ["treatment", "outcome"])
def test_missing_treatment_or_outcome(tmp_path, key):
    d = _mutate()
    del d[key]
    with pytest.raises(GraphValidationError, match=rf"g\.yaml: graph 'toy' declares no {key}"):
        load_graph(_write(tmp_path, d))
    d = _mutate(**{key: "nope"})
    with pytest.raises(GraphValidationError, match=rf"g\.yaml: {key} 'nope' is not a node"):
        load_graph(_write(tmp_path, d))


def test_other_bad_specs(tmp_path):
    with pytest.raises(GraphValidationError, match="node 'z' has unknown role 'boss'"):
        load_graph(_write(tmp_path, _mutate(nodes=[{**BASE["nodes"][0], "role": "boss"},
                                                   *BASE["nodes"][1:]])))
    with pytest.raises(GraphValidationError, match="node 'y': cardinality 2 does not match"):
        load_graph(_write(tmp_path, _mutate(nodes=[*BASE["nodes"][:2], {
            "name": "y", "states": [0, 1, 2], "cardinality": 2, "role": "outcome"}])))
    with pytest.raises(GraphValidationError, match="node 'z' has repeated states"):
        load_graph(_write(tmp_path, _mutate(nodes=[{**BASE["nodes"][0], "states": [1, 1]},
                                                   *BASE["nodes"][1:]])))
    with pytest.raises(GraphValidationError, match="unknown key"):
        load_graph(_write(tmp_path, _mutate(colour="red")))
    with pytest.raises(GraphValidationError, match="not valid YAML"):
        p = tmp_path / "bad.yaml"
        p.write_text("name: [unclosed")
        load_graph(p)
    with pytest.raises(FileNotFoundError, match="available: .*intent_confounding"):
        load_graph("no_such_graph")


def test_states_not_matching_the_data_name_node_values_and_rows():
    g = load_graph("intent_confounding")
    df = pd.DataFrame({"exposure": [0, 1, 2, 1], "click": [0, 1, 1, 0]})
    with pytest.raises(GraphValidationError,
                       match=r"intent_confounding\.yaml: node 'exposure': data values 2 are not "
                             r"among the declared states \[0, 1\] \(rows \[2\]\)"):
        g.check_data(df)
    with pytest.raises(GraphValidationError, match=r"no column for node\(s\) \['click'\]"):
        g.check_data(df[["exposure"]])
    with pytest.raises(GraphValidationError, match="'click': data has missing values"):
        g.check_data(pd.DataFrame({"exposure": [0, 1], "click": [0, None]}))
    g.check_data(pd.DataFrame({"exposure": [0, 1], "click": [1, 1]}))  # fine


def test_replace_node_rewires_edges():
    g = load_graph("intent_confounding").replace_node("intent", new_name="cluster",
                                                      latent=False, states=[0, 1, 2, 3])
    assert ("cluster", "exposure") in g.edges and "intent" not in g
    assert g["cluster"].cardinality == 4 and not g.latents


def test_loading_a_spec_does_not_import_pgmpy():
    import subprocess
    import sys

    code = ("import sys, causalrec.graphs as g; s = g.load_graph('mediation'); "
            "heavy = [m for m in ('pgmpy', 'torch', 'networkx', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def _random_dag(rng, n):
    names = [f"v{i}" for i in rng.permutation(n)]
    edges = [(names[i], names[j]) for i in range(n) for j in range(i + 1, n)
             if rng.random() < 0.3]
    order = rng.permutation(n)  # declaration order differs from the causal order
    nodes = [{"name": names[i], "states": [0, 1]} for i in order]
    return {"name": "rand", "treatment": names[0], "outcome": names[-1], "nodes": nodes,
            "edges": [list(e) for e in edges]}


def test_structure_methods_agree_with_networkx_on_random_dags():
    """order, roots, ancestors and descendants against networkx as the brute-force oracle."""
    import networkx as nx
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(30):
        raw = _random_dag(rng, int(rng.integers(2, 9)))
        spec = load_graph(raw)
        g = spec.to_networkx()
        order = spec.order
        assert sorted(order) == sorted(spec.node_names)
        pos = {v: i for i, v in enumerate(order)}
        assert all(pos[u] < pos[v] for u, v in spec.edges)
        assert spec.roots == [v for v in order if g.in_degree(v) == 0]
        for u, v in spec.edges:
            assert spec.has_edge(u, v) and not spec.has_edge(v, u)
        for v in spec.node_names:
            assert spec.ancestors(v) == nx.ancestors(g, v)
            assert spec.descendants(v) == nx.descendants(g, v)
        # Kahn's algorithm, ties broken by declaration order (the simulator relies on it)
        indeg = {v: g.in_degree(v) for v in spec.node_names}
        ready, want = [v for v in spec.node_names if indeg[v] == 0], []
        while ready:
            v = ready.pop(0)
            want.append(v)
            for c in spec.children(v):
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        assert order == want


def test_order_of_an_unvalidated_cyclic_spec_is_a_graph_validation_error():
    from causalrec.graphs import Node

    spec = GraphSpec("c", (Node("a", (0, 1)), Node("b", (0, 1))), (("a", "b"), ("b", "a")))
    with pytest.raises(GraphValidationError, match=r"graph 'c' has a cycle among nodes"):
        _ = spec.order
    assert load_graph("mediation").order == ["exposure", "click", "purchase"]
    assert load_graph("browse_purchase_rating")["rating"].numeric_states().tolist() == \
        [1.0, 2.0, 3.0, 4.0, 5.0]
