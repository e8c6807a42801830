"""Causal effect heads and propensity models. Classes load lazily on first access."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY = {
    "Head": ("base", "Head"),
    "PointwiseHead": ("pointwise", "PointwiseHead"),
    "BPRHead": ("bpr", "BPRHead"),
    "IPSHead": ("ips", "IPSHead"),
    "SNIPSHead": ("snips", "SNIPSHead"),
    "DRJLHead": ("drjl", "DRJLHead"),
    "CausEHead": ("cause", "CausEHead"),
    "DICEHead": ("dice", "DICEHead"),
    "MACRHead": ("macr", "MACRHead"),
    "PDAHead": ("pda", "PDAHead"),
    "RelMFHead": ("relmf", "RelMFHead"),
    "TLearnerHead": ("tlearner", "TLearnerHead"),
    "TARNetHead": ("tarnet", "TARNetHead"),
    "ULRMFHead": ("uplift", "ULRMFHead"),
    "ULBPRHead": ("uplift", "ULBPRHead"),
    "DLCEHead": ("uplift", "DLCEHead"),
    "CausalNeighborHead": ("causal_neighbor", "CausalNeighborHead"),
    "PropensityModel": ("propensity", "PropensityModel"),
    "PopularityPropensity": ("propensity", "PopularityPropensity"),
    "NaiveBayesPropensity": ("propensity", "NaiveBayesPropensity"),
    "LogisticPropensity": ("propensity", "LogisticPropensity"),
    "LoggedPropensity": ("propensity", "LoggedPropensity"),
    "IntentPropensity": ("propensity_intent", "IntentPropensity"),
    "user_intent": ("propensity_intent", "user_intent"),
    "DeconfoundedHead": ("deconfounded", "DeconfoundedHead"),
    "build_head": ("build", "build_head"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
