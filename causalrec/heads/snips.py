"""Self-normalised inverse propensity scoring (SNIPS)."""

from __future__ import annotations

from .ips import IPSHead


class SNIPSHead(IPSHead):
    """IPS with the weighted loss divided by the sum of the weights instead of the number of
    rows: ``sum_w w * l / sum_w w`` (Schnabel et al. 2016, "Recommendations as Treatments",
    Section 3.3, after Swaminathan and Joachims 2015, "The Self-Normalized Estimator for
    Counterfactual Learning", NeurIPS). Lower variance than IPS at a small bias; the same
    arguments as :class:`causalrec.heads.IPSHead`.
    """

    self_normalized = True
