"""CausalRecModule: the LightningModule that joins an intent encoder and a causal head."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import lightning as L
import torch
from torch import nn

from ..evaluation.popularity import popularity_diagnostics
from ..evaluation.ranking import METRIC_FNS, RANKING_METRICS, topk_hits, user_auc
from ..evaluation.unbiased import ips_ranking_metrics


class CausalRecModule(L.LightningModule):
    """Encoder + head, trained with ``head.loss`` and evaluated by full ranking.

    Evaluation scores every item for a batch of users (``head.full_scores``), masks the
    items the user already interacted with (the batch's ``exclude``), takes ``torch.topk``
    once at the largest cut-off and derives every metric from the hit matrix; nothing loops
    over users in Python. Metrics are summed over batches and divided by the number of
    evaluated users at the end of the epoch (RecBole's averaging).

    Args:
        encoder: an :class:`causalrec.encoders.Encoder`.
        head: a :class:`causalrec.heads.Head` built over the same encoder.
        optimizer: a callable ``params -> torch.optim.Optimizer`` (Hydra ``_partial_``).
        scheduler: optional callable ``optimizer -> LRScheduler``.
        ks: cut-offs for the ranking metrics; metrics: their names (RecBole definitions:
            recall, precision, ndcg, mrr, hit, map, and ``gauc``).
        monitor: the validation metric that early stopping and checkpointing follow.
        diagnostics: also log popularity-bias diagnostics of the top-K lists (coverage,
            gini, avg_popularity, tail_share; ``tail`` defines the long tail).
        ips_eta: when set, also log self-normalised IPS recall/DCG with item propensities
            ``(pop / max pop) ** ips_eta`` from the training data (Yang et al. 2018).
    """

    def __init__(self, encoder: nn.Module, head: nn.Module,
                 optimizer: Callable | None = None, scheduler: Callable | None = None,
                 ks: Sequence[int] = (10, 20), metrics: Sequence[str] = RANKING_METRICS,
                 monitor: str = "val/ndcg@10", diagnostics: bool = True, tail: float = 0.8,
                 ips_eta: float | None = None):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self._optimizer_factory = optimizer
        self._scheduler_factory = scheduler
        self.ks = tuple(int(k) for k in ks)
        if not self.ks or min(self.ks) <= 0:
            raise ValueError(f"model.ks must be positive cut-offs, got {list(ks)}")
        unknown = [m for m in metrics if m not in METRIC_FNS and m != "gauc"]
        if unknown:
            raise ValueError(f"unknown ranking metrics {unknown}; choose from "
                             f"{sorted(METRIC_FNS) + ['gauc']}")
        self.metrics = tuple(metrics)
        self.monitor = monitor
        self.diagnostics = bool(diagnostics)
        self.tail = float(tail)
        self.ips_eta = ips_eta
        self.item_popularity: torch.Tensor | None = None
        self._reset_eval()
        self._train_loss_sum = torch.zeros((), dtype=torch.float64)
        self._train_rows = 0

    def _reset_eval(self):
        self._eval_sums: dict[str, torch.Tensor] = defaultdict(
            lambda: torch.zeros((), dtype=torch.float64))
        self._eval_count = 0
        self._gauc = [0.0, 0.0]
        self._rec_counts: dict[int, torch.Tensor] = {}

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
    @torch.no_grad()
    def _eval_step(self, batch):
        scores = self.head.full_scores(batch["user"]).float()
        target, exclude = batch["target"].bool(), batch["exclude"].bool()
        n_targets = target.sum(1)
        keep = n_targets > 0
        if not bool(keep.all()):
            scores, target, exclude, n_targets = (scores[keep], target[keep], exclude[keep],
                                                  n_targets[keep])
        hits, idx = topk_hits(scores, target, max(self.ks), exclude)
        sums = self._eval_sums
        for k in self.ks:
            hk = hits[:, :k]
            for m in self.metrics:
                if m != "gauc":
                    sums[f"{m}@{k}"] += METRIC_FNS[m](hk, n_targets).sum().cpu()
            if self.diagnostics:
                c = torch.bincount(idx[:, :k].reshape(-1), minlength=scores.shape[1]).cpu()
                self._rec_counts[k] = self._rec_counts[k] + c if k in self._rec_counts else c
        if "gauc" in self.metrics:
            auc, w = user_auc(scores, target, exclude)
            self._gauc[0] += float((auc * w).sum())
            self._gauc[1] += float(w.sum())
        if self.ips_eta is not None and self.item_popularity is not None:
            pop = self.item_popularity.clamp(min=1).to(scores.device)
            prop = (pop / pop.max()) ** float(self.ips_eta)
            for name, v in ips_ranking_metrics(scores, target, prop, self.ks, exclude).items():
                sums[name] += v.sum().cpu()
        self._eval_count += len(n_targets)

    def _eval_epoch_end(self, stage: str):
        count = self._eval_count
        names = sorted(self._eval_sums)
        if self._trainer is not None and self.trainer.world_size > 1:
            # sums and counts are reduced across processes before dividing
            packed = torch.stack([self._eval_sums[n] for n in names] +
                                 [torch.tensor(float(count), dtype=torch.float64),
                                  torch.tensor(self._gauc[0], dtype=torch.float64),
                                  torch.tensor(self._gauc[1], dtype=torch.float64)])
            packed = self.all_gather(packed.to(self.device)).reshape(-1, len(names) + 3).sum(0)
            packed = packed.cpu()
            sums = dict(zip(names, packed[:len(names)]))
            count = float(packed[len(names)])
            self._gauc = [float(packed[-2]), float(packed[-1])]
            for k, c in self._rec_counts.items():
                self._rec_counts[k] = self.all_gather(c.to(self.device)).reshape(
                    -1, len(c)).sum(0).cpu()
        else:
            sums = dict(self._eval_sums)
        for name, total in sums.items():
            value = float(total) / max(count, 1)
            self.log(f"{stage}/{name}", value, prog_bar=name == "ndcg@10", sync_dist=False)
        if "gauc" in self.metrics:
            self.log(f"{stage}/gauc", self._gauc[0] / max(self._gauc[1], 1.0))
        if self.diagnostics and self.item_popularity is not None and count:
            for k, c in self._rec_counts.items():
                for name, value in popularity_diagnostics(
                        c, self.item_popularity.numpy(), count, k, self.tail).items():
                    self.log(f"{stage}/{name}@{k}", value)
        self._reset_eval()

    def validation_step(self, batch, batch_idx):
        self._eval_step(batch)

    def on_validation_epoch_end(self):
        self._eval_epoch_end("val")

    def test_step(self, batch, batch_idx):
        self._eval_step(batch)

    def on_test_epoch_end(self):
        self._eval_epoch_end("test")
