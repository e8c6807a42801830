"""A transformer run in two parts at a layer boundary ``k``.

When only the top layers of a language model are trained (fine-tuning or LoRA adapters,
:meth:`~causalrec.encoders.transformer.TextModel.set_trainable_layers` /
:meth:`~causalrec.encoders.transformer.TextModel.add_lora`), the token states entering layer
``k`` depend only on frozen weights and the text. :func:`states_entering` computes them (the
model stops there), and :func:`run_from` runs the model from given states through layers
``k`` onwards only. Both call the model's own ``forward``, so the attention mask, position
ids, rotary embeddings and final norm are built exactly as in the full pass: the layer
stack is temporarily cut to the layers wanted, and a pre-hook on layer ``k`` reads (or
replaces) its ``hidden_states`` input. Caching the bottom's states this way is the "frozen
layers as a feature extractor" of Yosinski et al. 2014 ("How transferable are features in
deep neural networks?") applied per token; the frozen bottom runs without dropout
(:func:`freeze_below`), so the cached and the recomputed states are the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


def layer_stack(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The model's transformer block list: the longest ``nn.ModuleList`` (``encoder.layer``
    in BERT, ``h`` in GPT-2, ``layers`` in Llama)."""
    best = None
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and (best is None or len(module) > len(best[1])):
            best = (name, module)
    if best is None:
        raise ValueError(f"{type(model).__name__} has no list of transformer layers to unfreeze")
    return best


class _Reached(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, states: torch.Tensor):
        self.states = states


def _hidden(args: tuple, kwargs: dict) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]


@contextlib.contextmanager
def _cut(model: nn.Module, start: int, stop: int | None = None) -> Iterator[nn.ModuleList]:
    """Temporarily make the model's layer stack ``stack[start:stop]`` (the original list is
    put back afterwards, whatever happens)."""
    name, stack = layer_stack(model)
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, nn.ModuleList(list(stack)[start:stop]))
    try:
        yield stack
    finally:
        setattr(parent, attr, stack)


def _check_layer(model: nn.Module, layer: int) -> None:
    name, stack = layer_stack(model)
    if not 0 <= layer < len(stack):
        raise ValueError(f"layer {layer} is outside the {len(stack)} layers of "
                         f"{type(model).__name__} (in {name!r})")


def states_entering(model: nn.Module, layer: int, **inputs) -> torch.Tensor:
    """The token states [B, T, H] that layer ``layer`` receives for ``inputs`` (the model's
    keyword arguments); layers from ``layer`` on do not run."""
    _check_layer(model, layer)

    def stop(module, args, kwargs):
        raise _Reached(_hidden(args, kwargs))

    with _cut(model, 0, layer + 1) as stack:
        handle = stack[layer].register_forward_pre_hook(stop, with_kwargs=True)
        try:
            model(**inputs)
        except _Reached as reached:
            return reached.states
        finally:
            handle.remove()
    raise RuntimeError(f"{type(model).__name__} never called layer {layer}")


def run_from(model: nn.Module, layer: int, states: torch.Tensor, **inputs):
    """The model's output for ``inputs`` when layer ``layer`` receives ``states`` [B, T, H]
    (layers below it do not run; the embeddings do, and their output is replaced)."""
    _check_layer(model, layer)

    def replace(module, args, kwargs):
        given = _hidden(args, kwargs)
        if given.shape != states.shape:
            raise ValueError(f"cached token states have shape {tuple(states.shape)}, but layer "
                             f"{layer} receives {tuple(given.shape)} for these inputs")
        value = states.to(device=given.device, dtype=given.dtype)
        if args:
            return (value, *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": value}

    with _cut(model, layer) as stack:
        handle = stack[layer].register_forward_pre_hook(replace, with_kwargs=True)
        try:
            return model(**inputs)
        finally:
            handle.remove()


def freeze_below(model: nn.Module, layer: int) -> None:
    """Put everything below layer ``layer`` (embeddings, layers ``< layer``) in evaluation
    mode: frozen layers run without dropout, as their cached states were computed."""
    name, stack = layer_stack(model)
    top = [f"{name}.{i}" for i in range(layer, len(stack))]
    after = _after_stack(model, name)
    for sub, module in model.named_modules():
        if not sub or any(sub == t or sub.startswith(t + ".") or t.startswith(sub + ".")
                          for t in top + after):
            continue  # the top layers, what follows the stack, and their ancestors
        module.training = False


def _after_stack(model: nn.Module, stack_name: str) -> list[str]:
    """Modules registered after the layer stack in the stack's parent chain (a final norm:
    GPT-2 ``ln_f``, Llama ``norm``); BERT's pooler is among them and harmless."""
    names = [n for n, _ in model.named_modules() if n]
    at = names.index(stack_name)
    return [n for n in names[at + 1:] if not n.startswith(stack_name + ".")]
