"""``privacy=dp``: build private training for a datamodule and a CausalRecModule.

:func:`build_private_training` checks the privacy config, the head and the encoder, chooses
the Poisson sampling rate and the noise (for a target ε over the planned steps, with
Opacus's accountant), wraps the datamodule so that training batches are Poisson-sampled
privacy units, and hooks the per-unit clipper and the DP-SGD callback on the model. Its
:meth:`PrivateTraining.record` is what the run record stores: spent ε and δ, the mechanism
and which parts of the data are treated as public.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .accountant import (
    ACCOUNTANTS,
    check_delta,
    check_epsilon,
    epsilon_spent,
    max_steps,
    noise_for_epsilon,
)
from .callback import DPSGDCallback
from .clipping import GroupClipper, trainable_layers
from .sampling import UNITS, PoissonBatches, PrivateDataModule

#: heads whose loss is a mean of per-row terms (what per-unit clipping needs); a
#: self-normalised (SNIPS), pairwise-regularised (DICE) or model-propensity head is not
SUPPORTED_HEADS = ("BPRHead", "PointwiseHead", "IPSHead")
USER_PARAMS = ("noised", "local")
_KEYS = ("mode", "unit", "epsilon", "delta", "noise_multiplier", "clip_norm", "sample_rate",
         "accountant", "user_params", "design")


def _target(obj) -> str:
    return f"{type(obj).__module__}.{type(obj).__name__}"


def check_head(head) -> None:
    """A ValueError naming ``head._target_`` for a head per-unit clipping cannot support."""
    name = type(head).__name__
    if name not in SUPPORTED_HEADS:
        raise ValueError(f"privacy=dp does not support head._target_={_target(head)}: its loss "
                         "is not a mean of per-row terms, so a unit's gradient cannot be "
                         f"clipped on its own; supported heads: {', '.join(SUPPORTED_HEADS)}")
    if getattr(head, "propensity", None) is not None:
        raise ValueError(f"privacy=dp does not support head.propensity={_target(head.propensity)}"
                         ": a propensity model fitted on all users' interactions is itself a "
                         "non-private statistic; use logged propensities (head.propensity=null)")


def check_encoder(encoder, unit: str) -> None:
    """A ValueError naming the encoder key for an encoder whose rows cannot be attributed."""
    text = getattr(encoder, "text", encoder)  # HybridEncoder holds its text part
    mode = getattr(text, "users_mode", None)
    if mode == "history":
        raise ValueError("privacy=dp does not support encoder.users=history: a user's vector "
                         "pools item rows shared with other users, so per-unit clipping cannot "
                         "attribute them; use encoder.users=id (or text)")
    if unit == "interaction" and mode == "text":
        raise ValueError("privacy.unit=interaction does not support encoder.users=text: the "
                         "user text summarises several interactions, so one interaction is not "
                         "one row; use privacy.unit=user or encoder.users=id")
    user_vectors = getattr(text, "user_text_emb", None)
    if user_vectors is not None and float(user_vectors.mean(0).norm()) < 1e-4:
        raise ValueError("privacy=dp does not support encoder.center=true with encoder.users="
                         "text: the mean user-text vector subtracted from every user is a "
                         "non-private statistic of all users' text; set encoder.center=false")
    if getattr(text, "text_model", None) is not None:
        raise ValueError("privacy=dp does not support encoder.trainable_layers > 0 (a fine-tuned "
                         "language model); use the frozen encoder (trainable_layers: 0)")


@dataclass
class PrivateTraining:
    """What :func:`build_private_training` returns: the wrapped datamodule, the callback and
    the settings for the run record."""

    datamodule: PrivateDataModule
    callback: DPSGDCallback
    settings: dict[str, Any] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        cb = self.callback
        return {"privacy/epsilon": cb.epsilon, "privacy/delta": cb.delta,
                "privacy/steps": float(cb.steps), "privacy/noise_multiplier": cb.noise_multiplier,
                "privacy/sample_rate": cb.sample_rate,
                **{f"privacy/{k}": v for k, v in cb.stats().items()}}

    def record(self) -> dict[str, Any]:
        """The run record's ``privacy`` entry (JSON-able; no data, no text)."""
        cb = self.callback
        return {**self.settings, "epsilon_spent": cb.epsilon, "delta": cb.delta,
                "steps": cb.steps, "stopped_by_budget": cb.stopped_by_budget}


def _public_parts(module, local: list[str]) -> tuple[list[str], list[str]]:
    enc = module.encoder
    text = getattr(enc, "text", enc)
    public = ["the item catalogue and the index sizes (numbers of users and items)",
              "validation interactions, used for early stopping and checkpoint selection "
              "(not covered by ε)"]
    private = ["training interactions and the negatives sampled for them"]
    if hasattr(text, "item_text_emb"):
        public.append("item text (the dataset's item template over item metadata) and the "
                      "pretrained language-model weights")
    if hasattr(text, "user_text_emb"):
        private.append("user text (built from the user's own training history), used only "
                       "inside that user's clipped gradient")
    if local:
        private.append(f"per-user parameters {local}: never released, each used only for its "
                       "own user's recommendations (joint DP via the billboard lemma, Hsu et al. "
                       "2014; Jain, Thakkar and Thakurta 2018)")
    return public, private


def build_private_training(cfg, datamodule, module, max_epochs: int,
                           seed: int = 0) -> PrivateTraining | None:
    """Private training for ``privacy`` config ``cfg`` (None, or ``mode: none``: None).

    Example:
        20 users with 3 training rows each and a batch size of 15 rows: each user is sampled
        with probability q = 15 / 60 = 0.25 per step (4 steps per epoch), δ defaults to
        1 / 20, and the noise multiplier is the smallest whose 40 planned steps spend at
        most ε = 2 (the accountant's figure, :func:`epsilon_spent`):

        >>> from causalrec.experiment import compose
        >>> from causalrec.models import build_datamodule, build_module
        >>> from causalrec.privacy import build_private_training, epsilon_spent
        >>> cfg = compose(["privacy=dp", "privacy.epsilon=2", "encoder.dim=8",
        ...                "dataset.source.n_users=20", "dataset.source.n_items=30",
        ...                "dataset.source.per_user=5", "dataset.batch_size=15"])
        >>> dm = build_datamodule(cfg)
        >>> dm.setup("fit")
        >>> private = build_private_training(cfg.privacy, dm, build_module(cfg, dm.train_data),
        ...                                  max_epochs=10)
        >>> s = private.settings
        >>> s["n_units"], s["sample_rate"], s["steps_per_epoch"], s["planned_steps"]
        (20, 0.25, 4, 40)
        >>> private.callback.delta, round(s["noise_multiplier"], 2)
        (0.05, 1.79)
        >>> s["planned_epsilon"] == epsilon_spent(s["noise_multiplier"], 0.25, 40, 0.05) <= 2
        True
    """
    if cfg is None or cfg.get("mode", "none") == "none":
        return None
    cfg = dict(cfg)
    unknown = sorted(set(cfg) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown privacy keys {unknown}; known: {list(_KEYS)}")
    if cfg["mode"] != "dp":
        raise ValueError(f"privacy.mode must be 'none' or 'dp', got {cfg['mode']!r}")
    unit = cfg.get("unit", "user")
    if unit not in UNITS:
        raise ValueError(f"privacy.unit must be one of {UNITS}, got {unit!r}")
    accountant = cfg.get("accountant", "rdp")
    if accountant not in ACCOUNTANTS:
        raise ValueError(f"privacy.accountant must be one of {ACCOUNTANTS}, got {accountant!r}")
    user_params = cfg.get("user_params", "noised")
    if user_params not in USER_PARAMS:
        raise ValueError(f"privacy.user_params must be one of {USER_PARAMS}, got {user_params!r}")
    eps = None if cfg.get("epsilon") is None else check_epsilon(cfg["epsilon"])
    sigma = cfg.get("noise_multiplier")
    if sigma is not None and not float(sigma) > 0:
        raise ValueError(f"privacy.noise_multiplier must be > 0, got {sigma!r}")
    if eps is None and sigma is None:
        raise ValueError("privacy=dp needs privacy.epsilon (a target) or "
                         "privacy.noise_multiplier")
    clip = float(cfg.get("clip_norm", 1.0))
    if not clip > 0:
        raise ValueError(f"privacy.clip_norm must be > 0, got {cfg.get('clip_norm')!r}")
    check_head(module.head)
    check_encoder(module.encoder, unit)
    layers = trainable_layers(module, f"encoder._target_={_target(module.encoder)}")
    local = [n for n, m in layers.items() if user_params == "local" and n.endswith("user_emb")]
    if user_params == "local" and not local:
        raise ValueError("privacy.user_params=local needs an encoder with a user embedding "
                         f"table (user_emb); encoder._target_={_target(module.encoder)} has none")

    if getattr(datamodule, "negative_sampler", "uniform") != "uniform":
        raise ValueError(f"privacy=dp does not support dataset.negative_sampler="
                         f"{datamodule.negative_sampler}: popularity counts over all users' "
                         "interactions are a non-private statistic; use uniform")
    datamodule.setup("fit")
    train = datamodule.train_data.interactions
    n_rows = len(train)
    n_units = int(train["user"].nunique()) if unit == "user" else n_rows
    delta = check_delta(cfg["delta"]) if cfg.get("delta") is not None else 1.0 / n_units
    q = cfg.get("sample_rate")
    q = float(q) if q is not None else min(1.0, datamodule.batch_size / max(n_rows, 1))
    if not 0 < q <= 1:
        raise ValueError(f"privacy.sample_rate must lie in (0, 1], got {cfg.get('sample_rate')!r}")
    steps_per_epoch = max(1, int(round(1 / q)))
    planned = steps_per_epoch * int(max_epochs)
    if sigma is None:
        sigma = noise_for_epsilon(eps, delta, q, planned, accountant)
    sigma = float(sigma)
    budget = max_steps(sigma, q, eps, delta, accountant, limit=planned) if eps else None
    if budget == 0:
        raise ValueError(f"privacy.noise_multiplier={sigma} spends more than privacy.epsilon="
                         f"{eps} in a single step; raise the noise or the budget")
    batches = PoissonBatches(datamodule._epoch_arrays, unit, datamodule.n_users, q,
                             steps_per_epoch, seed=seed)
    clipper = GroupClipper(layers, clip, local=tuple(local))
    callback = DPSGDCallback(clipper, sigma, clip, q, n_units, delta, accountant,
                             max_steps=budget, target_epsilon=eps, seed=seed,
                             planned_steps=planned)
    public, private = _public_parts(module, local)
    settings = {
        "mechanism": "DP-SGD (Abadi et al. 2016) with Poisson sampling and per-unit clipping",
        "unit": unit, "design": cfg.get("design") or ("joint" if local else "all"),
        "target_epsilon": eps, "noise_multiplier": sigma, "clip_norm": clip,
        "sample_rate": q, "expected_units_per_step": q * n_units, "n_units": n_units,
        "steps_per_epoch": steps_per_epoch, "planned_steps": planned, "budget_steps": budget,
        "planned_epsilon": epsilon_spent(sigma, q, planned, delta, accountant),
        "accountant": f"opacus.accountants.{'RDPAccountant' if accountant == 'rdp' else 'PRVAccountant'}",
        "noised_layers": [n for n in layers if n not in local], "local_layers": local,
        "public": public, "private": private,
        "randomness": "pseudo-random (torch/NumPy generators seeded by the run's seed), not a "
                      "cryptographically secure source",
        "rows_per_unit_mean": float(n_rows / max(n_units, 1)),
        "users_with_rows": int(np.unique(train["user"].to_numpy()).size),
    }
    return PrivateTraining(PrivateDataModule(datamodule, batches), callback, settings)
