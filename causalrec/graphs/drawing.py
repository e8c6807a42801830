"""Draw a graph spec with matplotlib: nodes coloured by role, latent nodes hollow and dashed,
laid out left to right in topological generations (networkx ``multipartite_layout``)."""

from __future__ import annotations

from .spec import GraphSpec, load_graph

ROLE_COLOURS = {
    "treatment": "#4C72B0",
    "outcome": "#DD8452",
    "mediator": "#55A868",
    "confounder": "#C44E52",
    "latent": "#8172B3",
    "instrument": "#937860",
    "proxy": "#DA8BC3",
    "covariate": "#8C8C8C",
}


def draw(spec: GraphSpec | str, ax=None, *, node_size: int = 2200, font_size: int = 9,
         legend: bool = True, title: str | None = None):
    """Draw ``spec`` (a spec, a shipped name or a path) on ``ax`` (new figure if None);
    return the axes."""
    import matplotlib.pyplot as plt
    import networkx as nx
    from matplotlib.lines import Line2D

    spec = load_graph(spec)
    g = spec.to_networkx()
    for layer, nodes in enumerate(nx.topological_generations(g)):
        for n in nodes:
            g.nodes[n]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.8 + 1.6 * (max(nx.get_node_attributes(g, "layer")
                                                         .values(), default=0) + 1), 3.2))
    observed = [n.name for n in spec.nodes if not n.latent]
    latent = [n.name for n in spec.nodes if n.latent]
    colour = {n.name: ROLE_COLOURS.get(n.role, "#8C8C8C") for n in spec.nodes}
    nx.draw_networkx_nodes(g, pos, nodelist=observed, node_color=[colour[n] for n in observed],
                           node_size=node_size, ax=ax)
    nx.draw_networkx_nodes(g, pos, nodelist=latent, node_color="white",
                           edgecolors=[colour[n] for n in latent], linewidths=2.0,
                           node_size=node_size, ax=ax)
    lat = set(latent)
    layer = nx.get_node_attributes(g, "layer")
    # an edge that skips a generation would run straight through the nodes in between
    # (e.g. intent -> click behind exposure): those are drawn as arcs
    for edge in g.edges:
        skips = abs(layer[edge[1]] - layer[edge[0]]) > 1
        nx.draw_networkx_edges(g, pos, edgelist=[edge], node_size=node_size, arrowsize=18,
                               style="dashed" if edge[0] in lat else "solid", ax=ax,
                               connectionstyle="arc3,rad=-0.35" if skips else "arc3")
    nx.draw_networkx_labels(g, pos, labels={n: n for n in g.nodes}, font_size=font_size, ax=ax)
    if legend:
        roles = list(dict.fromkeys(n.role for n in spec.nodes))
        handles = [Line2D([], [], marker="o", linestyle="", markersize=9,
                          color=ROLE_COLOURS.get(r, "#8C8C8C"), label=r) for r in roles]
        if latent:
            handles.append(Line2D([], [], marker="o", linestyle="", markersize=9,
                                  markerfacecolor="white", color="black", label="latent"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02),
                  ncol=min(len(handles), 4), frameon=False, fontsize=8)
    ax.set_title(title if title is not None else spec.name)
    ax.margins(0.15)
    ax.set_axis_off()
    return ax
