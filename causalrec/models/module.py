"""CausalRecModule: the LightningModule that joins an intent encoder and a causal head."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import lightning as L
import torch
from torch import nn

from ..evaluation.full_ranking import RankingAccumulator, check_metrics
from ..evaluation.ranking import RANKING_METRICS


class CausalRecModule(L.LightningModule):
    """Encoder + head, trained with ``head.loss`` and evaluated by full ranking.

    Validation and test use the one evaluation loop's accumulator
    (:class:`causalrec.evaluation.full_ranking.RankingAccumulator`, the same code as
    :func:`causalrec.evaluation.evaluate`): full ranking of every item, the already-seen
    items masked, metrics averaged over users as RecBole does.

    Args:
        encoder: an :class:`causalrec.encoders.Encoder`.
        head: a :class:`causalrec.heads.Head` built over the same encoder.
        optimizer: a callable ``params -> torch.optim.Optimizer`` (Hydra ``_partial_``).
        scheduler: optional callable ``optimizer -> LRScheduler``.
        ks: cut-offs for the ranking metrics; metrics: their names (RecBole definitions:
            recall, precision, ndcg, mrr, hit, map, and ``gauc``).
        monitor: the validation metric that early stopping and checkpointing follow;
            ``"auto"``: the head's declared ``monitor`` (uplift heads: the IPS-unbiased
            causal metric ``val/ips_cdcg@10``), else ``val/ndcg@10``.
        causal_metrics: also log the IPS estimates of CP@K and CDCG@K from the logged
            validation/test rows (``{stage}/ips_cp@K``; needs ``exposure`` and
            ``propensity`` columns; :func:`causalrec.evaluation.logged_causal_metrics`);
            ``None``: when the monitor is one of them.
        diagnostics: also log popularity-bias diagnostics of the top-K lists (coverage,
            gini, avg_popularity, tail_share; ``tail`` defines the long tail).
        ips_eta: when set, also log self-normalised IPS recall/DCG with item propensities
            ``(pop / max pop) ** ips_eta`` from the training data (Yang et al. 2018).

    Example:
        A training step is the head's loss of the batch given the head's forward outputs,
        ``head.loss(batch, head(batch))`` (a new head defines those two):

        >>> import torch
        >>> from causalrec.experiment import compose
        >>> from causalrec.models import build_datamodule, build_module
        >>> cfg = compose(["head=bpr", "dataset.source.n_users=20",
        ...                "dataset.source.n_items=30", "dataset.source.per_user=5"])
        >>> dm = build_datamodule(cfg)
        >>> dm.setup("fit")
        >>> module = build_module(cfg, dm.train_data)
        >>> batch = next(iter(dm.train_dataloader()))
        >>> module.on_train_epoch_start()
        >>> loss = module.training_step(batch, 0)
        >>> torch.equal(loss, module.head.loss(batch, module.head(batch)))
        True
    """

    def __init__(self, encoder: nn.Module, head: nn.Module,
                 optimizer: Callable | None = None, scheduler: Callable | None = None,
                 ks: Sequence[int] = (10, 20), metrics: Sequence[str] = RANKING_METRICS,
                 monitor: str = "val/ndcg@10", diagnostics: bool = True, tail: float = 0.8,
                 ips_eta: float | None = None, causal_metrics: bool | None = None):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self._optimizer_factory = optimizer
        self._scheduler_factory = scheduler
        self.ks, self.metrics = check_metrics(ks, metrics)
        if monitor == "auto":
            monitor = getattr(head, "monitor", None) or "val/ndcg@10"
        self.monitor = monitor
        self.causal_metrics = "/ips_c" in monitor if causal_metrics is None else causal_metrics
        if "/ips_c" in monitor and int(monitor.rsplit("@", 1)[-1]) not in self.ks:
            raise ValueError(f"model.monitor={monitor} needs its cut-off in model.ks={self.ks}")
        self.diagnostics = bool(diagnostics)
        self.tail = float(tail)
        self.ips_eta = ips_eta
        self.item_popularity: torch.Tensor | None = None
        self._acc: RankingAccumulator | None = None
        self._train_loss_sum = torch.zeros((), dtype=torch.float64)
        self._train_rows = 0

    # ------------------------------------------------------------------ set-up
    def setup(self, stage: str | None = None) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is None:
            return
        need = getattr(self.head, "sampling", None)
        have = getattr(dm, "sampling", None)
        if need == "pairwise" and have != "pairwise":
            raise ValueError(f"{type(self.head).__name__} trains on (user, item, neg_item) "
                             f"triples but dataset.sampling={have!r}; set dataset.sampling="
                             "pairwise (the head's YAML in conf/head/ does)")
        if need == "pointwise" and have != "pointwise":
            raise ValueError(f"{type(self.head).__name__} needs pointwise batches but "
                             f"dataset.sampling={have!r}")
        if self.item_popularity is None and hasattr(dm, "train_data"):
            pop = dm.train_data.item_popularity()
            self.item_popularity = torch.as_tensor(pop, dtype=torch.float64)

    # ------------------------------------------------------------------ training
    def forward(self, batch):
        return self.head(batch)

    def transfer_batch_to_device(self, batch, device, dataloader_idx):
        # the datamodule's batches are dicts of CPU tensors: on a CPU run Lightning's generic
        # walk over the collection (about 5% of a small model's step) moves nothing
        if device.type == "cpu" and isinstance(batch, dict) and all(
                not isinstance(v, torch.Tensor) or v.device.type == "cpu" for v in batch.values()):
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)

    def training_step(self, batch, batch_idx):
        outputs = self.head(batch)
        loss = self.head.loss(batch, outputs)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite training loss {loss.item()} at step "
                                     f"{self.global_step} ({type(self.head).__name__})")
        # accumulated here and logged once per epoch: self.log on every step costs more than
        # the step itself for small recommendation models
        n = len(batch["user"])
        self._train_loss_sum = self._train_loss_sum + loss.detach().double() * n
        self._train_rows += n
        return loss

    def on_train_epoch_start(self):
        self._train_loss_sum = torch.zeros((), dtype=torch.float64)
        self._train_rows = 0

    def on_train_epoch_end(self):
        if self._train_rows:
            self.log("train/loss", float(self._train_loss_sum) / self._train_rows,
                     prog_bar=True, sync_dist=self.trainer.world_size > 1)

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
    def _accumulator(self) -> RankingAccumulator:
        if self._acc is None:
            self._acc = RankingAccumulator(self.ks, self.metrics, self.item_popularity,
                                           self.diagnostics, self.tail, self.ips_eta)
        return self._acc

    @torch.no_grad()
    def _eval_step(self, batch):
        scores = self.head.full_scores(batch["user"])
        self._accumulator().update(scores, batch["target"], batch["exclude"])

    def _eval_epoch_end(self, stage: str):
        acc = self._accumulator()
        if self._trainer is not None and self.trainer.world_size > 1:
            acc.reduce(lambda t: self.all_gather(t.to(self.device)))
        for name, value in acc.compute().items():
            self.log(f"{stage}/{name}", value, prog_bar=name == "ndcg@10", sync_dist=False)
        acc.reset()
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if self.causal_metrics and getattr(dm, "split", None) is not None:
            from ..evaluation.causal import logged_causal_metrics

            part = dm.split.valid if stage == "val" else dm.split.test
            for name, value in logged_causal_metrics(self.head, part, self.ks).items():
                self.log(f"{stage}/{name}", value, prog_bar=f"{stage}/{name}" == self.monitor,
                         sync_dist=False)

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch)

    def on_validation_epoch_end(self):
        self._eval_epoch_end("val")

    def test_step(self, batch, batch_idx):
        self._eval_step(batch)

    def on_test_epoch_end(self):
        self._eval_epoch_end("test")
