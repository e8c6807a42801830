"""The root config's types and ranges, checked before a run builds or writes anything.

Hydra's struct mode already refuses unknown keys; this module refuses known keys with a
wrong type or an out-of-range value (``seed=abc``, ``dataset.batch_size=0``,
``resume=flase``, ``encoder.dim=0``, ...) with one error that lists every bad key, its
value and the rule, instead of an exception from deep inside ``int()``, ``range()``, Adam or
Lightning - or, worse, a silently clamped or truthy value.

Rules are looked up by the full dotted key first (``trainer.max_epochs``) and then by the
last name of the key anywhere in the config (``lr``, ``batch_size``, ``dim`` in any group),
so a new config group gets the common checks without being listed. Keys that are absent are
not required here (tasks and groups differ); interpolations are checked after resolution
and keys whose value cannot be resolved outside a Hydra run (``${hydra:...}``) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

_UNSET = object()
_REFERENCE = re.compile(r"\$\{[\w.]+\}")


class ConfigValidationError(ValueError):
    """Invalid config values. ``errors`` is a list of (key, value, rule); the message lists
    each as ``key=value: rule``."""

    def __init__(self, errors: list[tuple[str, Any, str]]):
        self.errors = list(errors)
        lines = [f"  {key}={value!r}: {rule}" for key, value, rule in self.errors]
        n = len(self.errors)
        super().__init__(f"{n} invalid config value{'s' if n > 1 else ''} (fix the YAML or the "
                         "override):\n" + "\n".join(lines))


@dataclass(frozen=True)
class Rule:
    """A type and range for one config value.

    Args:
        kind: ``"int"``, ``"number"`` (int or float), ``"bool"``, ``"str"``, ``"choice"`` or
            ``"list"`` (each element checked by ``item``).
        low, high: inclusive bounds (``low_open`` / ``high_open`` make them exclusive).
        null: whether ``null`` is allowed.
        also: extra literal values allowed besides the type (``deterministic: warn``).
        choices: allowed values for ``"choice"``.
        item: the rule for each element of a list.
        what: what the value means, shown in the error.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    null: bool = False
    also: tuple = ()
    choices: tuple = ()
    item: Rule | None = None
    what: str = ""

    def describe(self) -> str:
        if self.kind == "choice":
            text = f"one of {list(self.choices)}"
        elif self.kind == "list":
            text = f"a list, each item {self.item.describe() if self.item else 'any value'}"
        else:
            text = {"int": "an integer", "number": "a number", "bool": "true or false",
                    "str": "a string"}[self.kind]
            lo, hi = _fmt(self.low), _fmt(self.high)
            if self.low is not None and self.high is not None:
                text += (f" in {'(' if self.low_open else '['}{lo}, {hi}"
                         f"{')' if self.high_open else ']'}")
            elif self.low is not None:
                text += f" {'>' if self.low_open else '>='} {lo}"
            elif self.high is not None:
                text += f" {'<' if self.high_open else '<='} {hi}"
        extras = [str(a).lower() if isinstance(a, bool) else repr(a) for a in self.also]
        extras += ["null"] if self.null else []
        if extras:
            text += f" (or {', '.join(extras)})"
        return f"{text} ({self.what})" if self.what else text

    def ok(self, v: Any) -> bool:
        if v is None:
            return self.null
        if any(v == a and type(v) is type(a) for a in self.also):
            return True
        if self.kind == "bool":
            return isinstance(v, bool)
        if self.kind == "str":
            return isinstance(v, str)
        if self.kind == "choice":
            return isinstance(v, str | int | float) and not isinstance(v, bool) \
                and v in self.choices
        if self.kind == "list":
            return isinstance(v, list | tuple) and all(self.item is None or self.item.ok(x)
                                                       for x in v)
        if isinstance(v, bool) or not isinstance(v, int | float):
            return False
        if self.kind == "int" and not isinstance(v, int):
            return False
        if v != v or v in (float("inf"), float("-inf")):
            return False
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        return not (self.high is not None and (v >= self.high if self.high_open else v > self.high))


def _fmt(x: float | None) -> str:
    return "" if x is None else str(int(x)) if float(x).is_integer() else f"{x:g}"


def _int(low=None, high=None, null=False, what="", also=()) -> Rule:
    return Rule("int", low=low, high=high, null=null, what=what, also=also)


def _num(low=None, high=None, low_open=False, high_open=False, null=False, what="") -> Rule:
    return Rule("number", low=low, high=high, low_open=low_open, high_open=high_open,
                null=null, what=what)


_BOOL = Rule("bool")
_BOOL_OR_NULL = Rule("bool", null=True)
_BATCH = _int(1, what="rows per batch")
_FRACTION_OR_COUNT = Rule("number", low=0, what="a fraction in [0, 1] or a count of batches")

#: rules for full dotted keys
KEY_RULES: dict[str, Rule] = {
    "seed": _int(0, 2**32 - 1, what="the one seed that drives the run"),
    "task": Rule("str", what="the task to run"),
    "resume": Rule("bool", what="skip runs that already have a record"),
    "threads": _int(1, null=True, what="torch intra-op threads"),
    "tags": Rule("list", item=Rule("str"), null=True),
    "model.optimizer.lr": _num(0, low_open=True, what="learning rate"),
    "model.optimizer.fused": _BOOL_OR_NULL,
    "model.ks": Rule("list", item=_int(1), what="ranking cut-offs"),
    "model.metrics": Rule("list", item=Rule("str")),
    "model.monitor": Rule("str"),
    "model.early_stopping_patience": _int(0, what="epochs without improvement"),
    "model.diagnostics": _BOOL,
    "model.tail": _num(0, 1, low_open=True, high_open=True, what="head items' share"),
    "model.ips_eta": _num(0, null=True, what="popularity exponent of IPS metrics"),
    "model.causal_metrics": _BOOL_OR_NULL,
    "trainer.max_epochs": _int(-1, null=True, what="-1: no limit"),
    "trainer.min_epochs": _int(0, null=True),
    "trainer.max_steps": _int(-1, what="-1: no limit"),
    "trainer.check_val_every_n_epoch": _int(1, null=True),
    "trainer.log_every_n_steps": _int(1, null=True),
    "trainer.num_sanity_val_steps": _int(-1, null=True, what="-1: all"),
    "trainer.accumulate_grad_batches": _int(1),
    "trainer.gradient_clip_val": _num(0, null=True),
    "trainer.fast_dev_run": _int(0, also=(True, False), what="batches to run, or a bool"),
    "trainer.deterministic": Rule("bool", null=True, also=("warn",)),
    "trainer.limit_train_batches": _FRACTION_OR_COUNT,
    "trainer.limit_val_batches": _FRACTION_OR_COUNT,
    "trainer.limit_test_batches": _FRACTION_OR_COUNT,
    "dataset.negatives": _int(0, what="sampled negatives per positive"),
    "dataset.split.ratios": Rule("list", item=_num(0, 1), null=True,
                                 what="train/valid/test shares"),
    "encoder.dim": _int(1, null=True, what="embedding size"),  # null: a text encoder's own
    "encoder.trainable_layers": _int(0, what="0: frozen"),
    "encoder.max_length": _int(1, null=True, what="tokens; null: the model's limit"),
    "encoder.init_std": _num(0, low_open=True, null=True),
}

#: rules for a key's last name, wherever it appears (below the root)
NAME_RULES: dict[str, Rule] = {
    "lr": _num(0, low_open=True, what="learning rate"),
    "weight_decay": _num(0, what="L2 penalty"),
    "batch_size": _BATCH,
    "eval_batch_size": _BATCH,
    "dim": _int(1, what="embedding size"),
    "seed": _int(0, 2**32 - 1, what="random seed"),
    "n_users": _int(1),
    "n_items": _int(1),
    "per_user": _int(1),
    "dropout": _num(0, 1, high_open=True, what="drop probability"),
    "layers": _int(1),
    "heads": _int(1),
    "max_len": _int(1),
    "clip": _num(0, 1, low_open=True, null=True, what="propensity floor"),
    "enable_progress_bar": _BOOL,
    "enable_model_summary": _BOOL,
    "enable_checkpointing": _BOOL,
    "normalize": _BOOL,
    "center": _BOOL,
    "trust_remote_code": _BOOL,
    "allow_download": _BOOL,
    "verify_cache": _BOOL,
    "quiet": _BOOL,
}


def _leaves(node: Any, prefix: str = "") -> Iterator[str]:
    """Dotted keys of every value below ``node`` (lists are values, not descended)."""
    if isinstance(node, DictConfig):
        for key in node.keys():
            key = str(key)
            if key.startswith("_") or (not prefix and key == "hydra"):
                continue
            path = f"{prefix}.{key}" if prefix else key
            child = node._get_node(key)
            if isinstance(child, DictConfig) and not child._is_none() \
                    and not child._is_interpolation():
                yield from _leaves(child, path)
            elif not (child._is_interpolation() and _REFERENCE.fullmatch(str(child._value()))):
                yield path  # a plain ${other.key} is checked at other.key


def _value(cfg: DictConfig, key: str) -> Any:
    """The resolved value at ``key`` (``_UNSET`` when it cannot be resolved here)."""
    try:
        v = OmegaConf.select(cfg, key, throw_on_missing=True)
    except Exception:  # noqa: BLE001 - ${hydra:...} outside Hydra, ??? values: not ours
        return _UNSET
    if isinstance(v, DictConfig | ListConfig):
        return OmegaConf.to_container(v, resolve=True)
    return v


def rule_for(key: str) -> Rule | None:
    """The rule for a dotted key: by full key first, else by its last name."""
    if key in KEY_RULES:
        return KEY_RULES[key]
    name = key.rsplit(".", 1)[-1]
    return NAME_RULES.get(name) if "." in key else None


def config_errors(cfg: DictConfig, rules: Callable[[str], Rule | None] = rule_for
                  ) -> list[tuple[str, Any, str]]:
    """(key, value, rule) for every value of ``cfg`` that breaks its rule."""
    errors = []
    for key in _leaves(cfg):
        rule = rules(key)
        if rule is None:
            continue
        v = _value(cfg, key)
        if v is _UNSET or rule.ok(v):
            continue
        hint = rule.describe()
        if rule.kind == "bool" and isinstance(v, str):
            hint += "; a string is not a bool (did you mean true or false?)"
        elif isinstance(v, str):
            hint += "; got a string"
        elif isinstance(v, float) and rule.kind == "int" and v == int(v):
            hint += "; got a float"
        errors.append((key, v, f"must be {hint}"))
    return errors


def validate_config(cfg: DictConfig) -> None:
    """Raise :class:`ConfigValidationError` naming every key with a wrong type or range."""
    errors = config_errors(cfg)
    if errors:
        raise ConfigValidationError(errors)
