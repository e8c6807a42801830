"""Notebook API: compose a config and run it in-process; read run records back."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from .runs import find_records, load_runs  # noqa: F401 - re-exported
from .train import register_resolvers


def compose(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose the causalrec config (from the installed package) with ``overrides``."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="causalrec.conf", version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=list(overrides))


def run(overrides: Sequence[str] = (), output_dir: str | os.PathLike | None = None) -> dict:
    """Compose and run one config in this process; returns its metrics.

    The run writes its record into ``output_dir`` (default: a new folder under
    ``outputs/runs/``), exactly as ``causalrec-train`` does.
    """
    from .train import train

    overrides = list(overrides)
    if output_dir is None and not any(o.startswith("paths.run_dir=") for o in overrides):
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        output_dir = Path("outputs") / "runs" / f"{stamp}_{secrets.token_hex(3)}"
    if output_dir is not None:
        overrides.append(f"paths.run_dir={Path(output_dir).resolve()}")
    cfg = compose(overrides)
    metrics = train(cfg)
    return metrics


def load_model(run_dir: str | os.PathLike, checkpoint: str = "best.ckpt"):
    """Rebuild a finished training run: ``(cfg, datamodule, module)`` with the module's
    weights loaded from ``<run_dir>/checkpoints/<checkpoint>`` (``torch.load`` with
    ``weights_only=True``) and put in eval mode; the datamodule is set up with the run's own
    split, so a notebook can score any users or items the way the run did."""
    import torch
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from ..models.build import build_module

    run_dir = Path(run_dir)
    cfg_path, ckpt = run_dir / "config.yaml", run_dir / "checkpoints" / checkpoint
    for path in (cfg_path, ckpt):
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: is {run_dir} a finished "
                                    "causalrec-train run with checkpointing?")
    cfg = OmegaConf.load(cfg_path)
    datamodule = instantiate(cfg.dataset, _recursive_=True)
    datamodule.setup("fit")
    module = build_module(cfg, datamodule.train_data, with_optimizer=False)
    state = torch.load(ckpt, weights_only=True, map_location="cpu")
    module.load_state_dict(state["state_dict"])
    return cfg, datamodule, module.eval()
