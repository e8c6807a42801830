"""The Lightning callback that turns an ordinary training step into a DP-SGD step."""

from __future__ import annotations

import logging

import lightning as L
import torch

from .accountant import epsilon_spent
from .clipping import GroupClipper

log = logging.getLogger("causalrec")


class DPSGDCallback(L.Callback):
    """DP-SGD (Abadi et al. 2016): per-unit clipping, Gaussian noise, budget stop.

    Before each optimizer step the gradient of every clipped parameter is replaced by
    ``(sum_units clip_C(grad_unit) + N(0, σ² C² I)) / (q · n_units)`` (the expected number of
    units per step, as Opacus does for Poisson sampling); parameters of local (per-user)
    layers keep their own gradient. Steps are counted; when the next step would spend more
    than the budget, training stops with a message, so the recorded ε never exceeds it.

    Args:
        clipper: the :class:`~causalrec.privacy.clipping.GroupClipper` hooked on the model.
        noise_multiplier: σ; clip_norm: C; sample_rate: q; n_units: units in the data.
        delta: δ for the spent-ε report; accountant: ``"rdp"`` or ``"prv"``.
        max_steps: the budget in steps (None: no budget stop).
        seed: seeds the noise.
        planned_steps: the steps the run was planned for (reaching them is no budget stop).
    """

    def __init__(self, clipper: GroupClipper, noise_multiplier: float, clip_norm: float,
                 sample_rate: float, n_units: int, delta: float, accountant: str = "rdp",
                 max_steps: int | None = None, target_epsilon: float | None = None,
                 seed: int = 0, planned_steps: int | None = None):
        self.clipper = clipper
        self.noise_multiplier, self.clip_norm = float(noise_multiplier), float(clip_norm)
        self.sample_rate, self.n_units = float(sample_rate), int(n_units)
        self.delta, self.accountant = float(delta), accountant
        self.max_steps, self.target_epsilon = max_steps, target_epsilon
        self.planned_steps = planned_steps
        self.seed = int(seed)
        self.steps = 0
        self.stopped_by_budget = False
        self._generators: dict[str, torch.Generator] = {}
        self._stats_sum = {"clipped_share": 0.0, "mean_norm": 0.0}

    @property
    def epsilon(self) -> float:
        """ε spent so far (Opacus's accountant over the steps taken)."""
        return epsilon_spent(self.noise_multiplier, self.sample_rate, self.steps, self.delta,
                             self.accountant)

    def _generator(self, device: torch.device) -> torch.Generator:
        key = str(device)
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[key]

    # ------------------------------------------------------------------ hooks
    def on_fit_start(self, trainer, pl_module):
        if trainer.world_size > 1:
            raise ValueError("privacy=dp runs on one process: set trainer.devices=1 "
                             f"(world size is {trainer.world_size})")
        if trainer.accumulate_grad_batches != 1:
            raise ValueError("privacy=dp needs trainer.accumulate_grad_batches=1 (one Poisson "
                             "draw per optimizer step)")

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self.max_steps is not None and self.steps >= self.max_steps:
            raise RuntimeError(f"privacy budget exhausted after {self.steps} steps: no further "
                               "step may be taken")
        if "group" not in batch:
            raise KeyError("privacy=dp training batch has no 'group' column: the datamodule "
                           "must be the PrivateDataModule built by privacy.build_private_training")
        self.clipper.begin(batch["group"])
        self._rows = len(batch["group"])

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        sums = self.clipper.finish(scale=float(self._rows), check_against_autograd=self.steps == 0)
        expected = self.sample_rate * self.n_units
        std = self.noise_multiplier * self.clip_norm
        for p, g in sums.items():
            noise = torch.randn(p.shape, generator=self._generator(p.device), device=p.device,
                                dtype=p.dtype) * std
            p.grad = (g + noise) / expected
        for k in self._stats_sum:
            self._stats_sum[k] += self.clipper.last_stats.get(k, 0.0)
        self.steps += 1
        if self.max_steps is not None and self.steps >= self.max_steps:
            trainer.should_stop = True
            if self.planned_steps is not None and self.steps >= self.planned_steps:
                log.info("privacy: the planned %d DP-SGD steps spend ε=%.4f (δ=%.3g)",
                         self.steps, self.epsilon, self.delta)
                return
            self.stopped_by_budget = True
            log.warning("privacy budget reached: %d DP-SGD steps spend ε=%.4f (δ=%.3g, target "
                        "ε=%s); training stops here so that the budget is not exceeded",
                        self.steps, self.epsilon, self.delta, self.target_epsilon)

    def on_train_epoch_end(self, trainer, pl_module):
        pl_module.log("privacy/epsilon", self.epsilon)
        pl_module.log("privacy/steps", float(self.steps))

    def on_train_end(self, trainer, pl_module):
        final = {"privacy/epsilon": self.epsilon, "privacy/delta": self.delta,
                 "privacy/steps": float(self.steps)}
        for logger in trainer.loggers:
            logger.log_metrics(final, step=trainer.global_step)

    def stats(self) -> dict[str, float]:
        """Mean share of clipped units and mean unit gradient norm over the steps."""
        n = max(self.steps, 1)
        return {k: v / n for k, v in self._stats_sum.items()}
