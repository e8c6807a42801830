"""Privacy: differentially private training (DP-SGD with accounting), and a
membership-inference audit."""

from __future__ import annotations

from ..lazy_exports import lazy_exports

_LAZY: dict[str, tuple[str, str]] = {
    "build_private_training": ("engine", "build_private_training"),
    "PrivateTraining": ("engine", "PrivateTraining"),
    "SUPPORTED_HEADS": ("engine", "SUPPORTED_HEADS"),
    "DPSGDCallback": ("callback", "DPSGDCallback"),
    "GroupClipper": ("clipping", "GroupClipper"),
    "PoissonBatches": ("sampling", "PoissonBatches"),
    "PrivateDataModule": ("sampling", "PrivateDataModule"),
    "epsilon_spent": ("accountant", "epsilon_spent"),
    "noise_for_epsilon": ("accountant", "noise_for_epsilon"),
    "max_steps": ("accountant", "max_steps"),
    "advantage_bound": ("accountant", "advantage_bound"),
    "membership_split": ("audit", "membership_split"),
    "loss_scores": ("audit", "loss_scores"),
    "attack_metrics": ("audit", "attack_metrics"),
    "lira_offline": ("audit", "lira_offline"),
    "audit_row": ("audit", "audit_row"),
    "fit_on": ("fit", "fit_on"),
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
