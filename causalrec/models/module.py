"""CausalRecModule: the LightningModule that joins an intent encoder and a causal head."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import lightning as L
import torch
from torch import nn

from ..evaluation.ranking import RANKING_METRICS, ranking_metrics


class CausalRecModule(L.LightningModule):
    """Encoder + head, trained with ``head.loss`` and evaluated by full ranking.

    Args:
        encoder: an :class:`causalrec.encoders.Encoder`.
        head: a :class:`causalrec.heads.Head` built over the same encoder.
        optimizer: a callable ``params -> torch.optim.Optimizer`` (Hydra ``_partial_``).
        scheduler: optional callable ``optimizer -> LRScheduler``.
        ks: cut-offs for the ranking metrics; metrics: their names (RecBole definitions).
        monitor: the validation metric that early stopping and checkpointing follow.
    """

    def __init__(self, encoder: nn.Module, head: nn.Module,
                 optimizer: Callable | None = None, scheduler: Callable | None = None,
                 ks: Sequence[int] = (10, 20), metrics: Sequence[str] = RANKING_METRICS,
                 monitor: str = "val/ndcg@10"):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self._optimizer_factory = optimizer
        self._scheduler_factory = scheduler
        self.ks = tuple(int(k) for k in ks)
        self.metrics = tuple(metrics)
        self.monitor = monitor
        self._eval_sums: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros((), dtype=torch.float64))
        self._eval_count = 0

    # ------------------------------------------------------------------ training
    def forward(self, batch):
        return self.head(batch)

    def training_step(self, batch, batch_idx):
        outputs = self.head(batch)
        loss = self.head.loss(batch, outputs)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite training loss {loss.item()} at step {self.global_step}")
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=len(batch["user"]))
        return loss

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        if self._optimizer_factory is None:
            opt = torch.optim.Adam(params, lr=1e-3)
        else:
            opt = self._optimizer_factory(params)
        if self._scheduler_factory is None:
            return opt
        return {"optimizer": opt, "lr_scheduler": {"scheduler": self._scheduler_factory(opt),
                                                   "monitor": self.monitor}}

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def _eval_step(self, batch):
        scores = self.head.full_scores(batch["user"]).float()
        per_user = ranking_metrics(scores, batch["target"], ks=self.ks,
                                   exclude=batch["exclude"], metrics=self.metrics)
        n = 0
        for name, values in per_user.items():
            self._eval_sums[name] = self._eval_sums[name] + values.sum().cpu()
            n = len(values)
        self._eval_count += n

    def _eval_epoch_end(self, stage: str):
        count = self._eval_count
        if self.trainer is not None and self.trainer.world_size > 1:
            # sums and counts are reduced across processes before dividing
            names = sorted(self._eval_sums)
            packed = torch.stack([self._eval_sums[n] for n in names] +
                                 [torch.tensor(float(count), dtype=torch.float64)])
            packed = self.all_gather(packed.to(self.device)).reshape(-1, len(names) + 1).sum(0).cpu()
            sums = dict(zip(names, packed[:-1]))
            count = float(packed[-1])
        else:
            sums = dict(self._eval_sums)
        for name, total in sums.items():
            value = float(total) / max(count, 1)
            self.log(f"{stage}/{name}", value, prog_bar=name == "ndcg@10", sync_dist=False)
        self._eval_sums.clear()
        self._eval_count = 0

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch)

    def on_validation_epoch_end(self):
        self._eval_epoch_end("val")

    def test_step(self, batch, batch_idx):
        self._eval_step(batch)

    def on_test_epoch_end(self):
        self._eval_epoch_end("test")
