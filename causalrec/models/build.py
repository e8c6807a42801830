"""Build a study's parts from a composed config: the datamodule with the head's data needs
resolved (:func:`build_datamodule`), and the LightningModule: encoder (``build_encoder``) +
head (``build_head``) + :class:`~causalrec.models.module.CausalRecModule`
(:func:`build_module`). Used by training, by :func:`causalrec.experiment.load_model` and by
the Recommender."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf, open_dict

#: dataset options a head may require, with what ``auto`` means when the head has no need
AUTO_DEFAULTS = {"sampling": "pointwise", "negatives": 1, "train_rows": "auto"}


def resolve_data_needs(cfg: DictConfig) -> DictConfig:
    """Fill ``dataset.<key>: auto`` from the head's declared needs
    (:meth:`causalrec.heads.Head.needs`) and refuse a dataset value that contradicts them,
    naming the key (a head never silently rewrites the dataset group). Returns ``cfg``,
    changed in place. ``train_rows: auto`` left without a need is resolved by the datamodule
    (exposed rows when the data has an exposure column, else all).

    Example:
        >>> from causalrec.experiment import compose
        >>> from causalrec.models import resolve_data_needs
        >>> cfg = resolve_data_needs(compose(["head=ulrmf", "dataset.negatives=auto"]))
        >>> cfg.dataset.sampling, cfg.dataset.train_rows, cfg.dataset.negatives
        ('pointwise', 'all', 0)
        >>> resolve_data_needs(compose(["head=bpr", "dataset.sampling=pointwise"]))
        Traceback (most recent call last):
        ...
        ValueError: head BPRHead needs dataset.sampling='pairwise' but the dataset config sets dataset.sampling='pointwise'; set dataset.sampling=pairwise (or auto)
    """
    from hydra.utils import get_class

    target = OmegaConf.select(cfg, "head._target_")
    needs = get_class(target).needs() if target else {}
    ds = cfg.dataset
    for key, default in AUTO_DEFAULTS.items():
        if key not in ds and key not in needs:
            continue  # the datamodule's own default
        have = ds.get(key, "auto")
        if key in needs:
            if have not in ("auto", None) and have != needs[key]:
                raise ValueError(
                    f"head {target.rsplit('.', 1)[-1]} needs dataset.{key}={needs[key]!r} but "
                    f"the dataset config sets dataset.{key}={have!r}; set dataset.{key}="
                    f"{needs[key]} (or auto)")
            value = needs[key]
        else:
            value = default if have in ("auto", None) else have
        with open_dict(ds):
            ds[key] = value
    return cfg


def build_datamodule(cfg: DictConfig, **kwargs):
    """The study's :class:`~causalrec.data.CausalRecDataModule`, its options resolved
    against the head (:func:`resolve_data_needs`)."""
    from hydra.utils import instantiate

    resolve_data_needs(cfg)
    return instantiate(cfg.dataset, _recursive_=True, **kwargs)


def build_module(cfg: DictConfig, train_data, *, with_optimizer: bool = True):
    """Encoder + head + CausalRecModule for ``cfg`` over the training data.

    Example:
        A BPR head over a 20-user generated set: each user's 5 interactions split 3/1/1
        (RecBole's ratio rule), so training has 60 rows, in one pairwise batch; at
        initialisation the scores are near 0, so the BPR loss is near ``log 2``.

        >>> import math, torch
        >>> from causalrec.experiment import compose
        >>> from causalrec.models import build_datamodule, build_module
        >>> cfg = compose(["head=bpr", "encoder.dim=8", "dataset.source.n_users=20",
        ...                "dataset.source.n_items=30", "dataset.source.per_user=5"])
        >>> dm = build_datamodule(cfg)
        >>> dm.setup("fit")
        >>> len(dm.train_data.interactions), cfg.dataset.sampling
        (60, 'pairwise')
        >>> module = build_module(cfg, dm.train_data)
        >>> type(module.encoder).__name__, type(module.head).__name__
        ('IDEncoder', 'BPRHead')
        >>> module.head.full_scores(torch.tensor([0, 1])).shape
        torch.Size([2, 30])
        >>> batch = next(iter(dm.train_dataloader()))
        >>> sorted(batch), len(batch["user"])
        (['item', 'neg_item', 'user'], 60)
        >>> loss = module.head.loss(batch, module.head(batch))  # what training_step computes
        >>> abs(loss.item() - math.log(2)) < 0.05
        True
    """
    from hydra.utils import instantiate

    from ..encoders.build import build_encoder
    from ..heads.build import build_head
    from .module import CausalRecModule

    encoder = build_encoder(cfg.encoder, train_data)
    head = build_head(cfg.head, encoder, train_data)
    m = cfg.model
    optim = {}
    if with_optimizer:
        optim = {"optimizer": instantiate(m.optimizer),
                 "scheduler": instantiate(m.scheduler) if m.get("scheduler") else None}
    return CausalRecModule(encoder, head, ks=list(m.ks), metrics=list(m.metrics),
                           monitor=m.monitor, diagnostics=bool(m.get("diagnostics", True)),
                           tail=float(m.get("tail", 0.8)), ips_eta=m.get("ips_eta"),
                           causal_metrics=m.get("causal_metrics"), **optim)
