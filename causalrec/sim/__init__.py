"""The causal simulator: one structural causal model built from a declared graph
(``conf/graph/*.yaml``), logged data with per-unit ground truth, the semi-synthetic ML-100K
protocol, and closed loops. Imports only :mod:`causalrec.graphs` and :mod:`causalrec.data.schema`.

``from causalrec.sim import simulate`` draws a world; ``load_synthetic`` returns its
:class:`~causalrec.data.InteractionData` for the training pipeline.
"""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY = {
    "simulate_uplift": ("uplift", "simulate_uplift"),
    "load_uplift": ("uplift", "load_uplift"),
    "UpliftTruth": ("uplift", "UpliftTruth"),
    "simulate": ("simulation", "simulate"),
    "load_synthetic": ("simulation", "load_synthetic"),
    "SimulationResult": ("simulation", "SimulationResult"),
    "SimulationTruth": ("truth", "SimulationTruth"),
    "World": ("world", "World"),
    "read_graph": ("graph", "read_graph"),
    "check_simulable": ("graph", "check_simulable"),
    "ROOT_GENERATORS": ("graph", "ROOT_GENERATORS"),
    "DEFAULTS": ("mechanisms", "DEFAULTS"),
    "load_semisynthetic": ("semisynthetic", "load_semisynthetic"),
    "SemiSyntheticTruth": ("semisynthetic", "SemiSyntheticTruth"),
    "simulate_semisynthetic": ("semisynthetic", "simulate_semisynthetic"),
    "SemiSyntheticResult": ("semisynthetic", "SemiSyntheticResult"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
