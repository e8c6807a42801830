"""Notebook API: compose a config and run it in-process; read run records back."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from omegaconf import DictConfig

from .runner import register_resolvers
from .runs import find_records, load_runs  # noqa: F401 - re-exported


def compose(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose the causalrec config (from the installed package) with ``overrides``.

    Example:
        >>> from causalrec.experiment import compose
        >>> cfg = compose(["head=ips", "head.clip=0.05"])
        >>> cfg.head._target_, cfg.head.clip, cfg.head.propensity._target_
        ('causalrec.heads.IPSHead', 0.05, 'causalrec.heads.PopularityPropensity')
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="causalrec.conf", version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=list(overrides))


def run(overrides: Sequence[str] = (), output_dir: str | os.PathLike | None = None,
        wandb_group: str | None = None, data=None) -> dict:
    """Compose and run one config in this process; returns its metrics.

    The run writes its record into ``output_dir`` (default: a new folder under
    ``outputs/runs/``), exactly as ``causalrec-train`` does; ``overrides`` are recorded as
    the run's overrides (``paths.*`` left out), as a command-line run records its own.
    ``wandb_group`` groups its W&B run (when a W&B logger is configured and has no group).
    ``data``: an in-memory :class:`~causalrec.data.InteractionData` (e.g. from
    ``InteractionData.from_frame``) as ``dataset.source``, with ``dataset=table``'s options
    unless a ``dataset=`` override is given; the record keeps its fingerprint.
    """
    from .runner import train

    overrides = list(overrides)
    if data is not None and not any(o.lstrip("+~").split("=")[0] == "dataset"
                                    for o in overrides):
        overrides.insert(0, "dataset=table")
    recorded = _as_recorded([o for o in overrides if not o.lstrip("+~").startswith("paths.")])
    if output_dir is None and not any(o.startswith("paths.run_dir=") for o in overrides):
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        output_dir = Path("outputs") / "runs" / f"{stamp}_{secrets.token_hex(3)}"
    if output_dir is not None:
        overrides.append(f"paths.run_dir={Path(output_dir).resolve()}")
    cfg = compose(overrides)
    if data is not None:  # held in this process by key; load("memory", key=...) returns it
        from omegaconf import open_dict

        from ..data.registry import remember

        with open_dict(cfg):
            cfg.dataset.source = {"_target_": "causalrec.data.load", "name": "memory",
                                  "key": remember(data)}
    if wandb_group is not None:
        from omegaconf import open_dict

        for conf in (cfg.get("logger") or {}).values():
            if conf is not None and "Wandb" in str(conf.get("_target_", "")):
                with open_dict(conf):
                    conf.group = conf.get("group") or wandb_group
    metrics = train(cfg, overrides=recorded)
    return metrics


def sweep(grid: Mapping[str, Sequence], overrides: Sequence[str] = (),
          output_dir: str | os.PathLike | None = None) -> Path:
    """Run every combination of ``grid`` in this process, like ``causalrec-train -m``.

    ``sweep({"head": ["naive", "ips"], "seed": [0, 1]}, ["trainer.max_epochs=5"])`` runs
    the jobs in the order Hydra's basic sweeper would (the last key varies fastest), each
    into ``<output_dir>/<job number>`` with the same recorded overrides as a command-line
    sweep, and W&B runs grouped by the sweep folder's name. Returns the sweep folder
    (default: a new one under ``outputs/multirun/``), ready for ``causalrec-compare``.
    """
    import itertools

    if output_dir is None:
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        output_dir = Path("outputs") / "multirun" / f"{stamp}_{secrets.token_hex(3)}"
    sweep_dir = Path(output_dir).resolve()
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not len(values):
            raise ValueError(f"sweep grid {key!r}: give a non-empty list of values, not "
                             f"{values!r}")
    keys = list(grid)
    for num, combo in enumerate(itertools.product(*(grid[k] for k in keys))):
        job = [*overrides, *(f"{k}={_override_value(v)}" for k, v in zip(keys, combo))]
        run(job, output_dir=sweep_dir / str(num), wandb_group=sweep_dir.name)
    return sweep_dir


def _as_recorded(overrides: list[str]) -> list[str]:
    """Overrides as a ``causalrec-train -m`` job records them (Hydra's parser writes each
    back as ``key=value``, e.g. ``false`` as ``False``), so both compare alike."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    return [f"{o.get_key_element()}={o.get_value_element_as_str()}" for o in parsed]


def _override_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def load_model(run_dir: str | os.PathLike, checkpoint: str = "best.ckpt"):
    """Rebuild a finished training run: ``(cfg, datamodule, module)`` with the module's
    weights loaded from ``<run_dir>/checkpoints/<checkpoint>`` (``torch.load`` with
    ``weights_only=True``) and put in eval mode; the datamodule is set up with the run's own
    split, so a notebook can score any users or items the way the run did."""
    import torch
    from omegaconf import OmegaConf

    from ..models.build import build_datamodule, build_module

    run_dir = Path(run_dir)
    cfg_path, ckpt = run_dir / "config.yaml", run_dir / "checkpoints" / checkpoint
    for path in (cfg_path, ckpt):
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: is {run_dir} a finished "
                                    "causalrec-train run with checkpointing?")
    cfg = OmegaConf.load(cfg_path)
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    module = build_module(cfg, datamodule.train_data, with_optimizer=False)
    state = torch.load(ckpt, weights_only=True, map_location="cpu")
    module.load_state_dict(state["state_dict"])
    return cfg, datamodule, module.eval()
