"""Explanations of a recommendation: counterfactual history, text evidence and the causal
effect of recommending from the study's graph. Example::

    from causalrec.explain import explain
    e = explain(recommender, "u_0012", "i_0345", k=10, data=train_data,
                network=bn, graph="mediation", evidence={"intent": 2})
    print(e)                 # three readings, one per line
    e.history.items          # the smallest set of the user's interactions that matters
"""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY: dict[str, tuple[str, str]] = {
    "explain": ("report", "explain"),
    "explain_many": ("report", "explain_many"),
    "Explanation": ("report", "Explanation"),
    "ExplanationError": ("history", "ExplanationError"),
    "HistoryExplanation": ("history", "HistoryExplanation"),
    "Prober": ("history", "Prober"),
    "counterfactual_history": ("history", "counterfactual_history"),
    "nearest_neighbour_explanation": ("history", "nearest_neighbour_explanation"),
    "TextEvidence": ("text", "TextEvidence"),
    "text_evidence": ("text", "text_evidence"),
    "CausalEvidence": ("causal", "CausalEvidence"),
    "causal_evidence": ("causal", "causal_evidence"),
    "fidelity": ("fidelity", "fidelity"),
    "summarize": ("fidelity", "summarize"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
