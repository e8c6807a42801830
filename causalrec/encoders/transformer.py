"""A Hugging Face transformers text model (``AutoTokenizer`` + ``AutoModel``) that embeds texts.

:class:`TextModel` is the language-model part of the text intent encoder: it resolves a model
reference (alias, local directory, or hub id when downloads are allowed), tokenizes, runs the
model and pools token states (:mod:`causalrec.encoders.pooling`). :meth:`TextModel.embed`
encodes many texts fast for the cache: texts are tokenized once, sorted by token length so a
batch carries little padding, and run under ``torch.inference_mode``. :meth:`TextModel.forward`
is the differentiable path used when the top layers are fine-tuned; given the token states
entering the first trained layer (``cache_states.layer_states``, cached by
:class:`~causalrec.encoders.cache_states.FrozenBottom`) it runs only the trained layers
(:mod:`causalrec.encoders.layer_split`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .layer_split import freeze_below, layer_stack, run_from
from .model_ref import resolve_model
from .pooling import POOLINGS, pool

#: token positions per forward pass of ``TextModel.embed`` on one CPU thread
#: (``batch_tokens: auto``): 16 to 18 review-length texts, 64 titles
CPU_BATCH_TOKENS = 2048

#: model types whose embeddings derive positions from the input ids and the pad token
#: themselves (RoBERTa family); every other model is given ``position_ids`` under left padding
_POSITIONS_FROM_IDS = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "mpnet",
                       "longformer", "data2vec-text", "ibert", "luke", "markuplm", "xmod"}

_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
           "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``auto``/``None`` -> CUDA when present, else CPU; ``cuda`` without a GPU is an error."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but torch sees no CUDA device; "
                           "use device: cpu or auto")
    return device


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """``auto``/``None`` -> bfloat16 on a GPU that supports it, float32 otherwise."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None or dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    if dtype not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose auto or one of {sorted(_DTYPES)}")
    return _DTYPES[dtype]


class TextModel(nn.Module):
    """Tokenizer + transformer + pooling.

    Args:
        model: alias (``minilm``), local model directory, or Hugging Face id.
        pooling: ``mean``, ``cls`` or ``last`` (last token, for decoder LLMs).
        normalize: L2-normalise the pooled vectors.
        max_length: truncate texts to this many tokens (``None``: the model's limit, taken
            from ``sentence_bert_config.json`` when the directory has one).
        batch_size: texts per forward pass in :meth:`embed`.
        batch_tokens: also at most this many token positions (texts x the longest) per
            forward pass in :meth:`embed`; ``None``: no limit; ``auto``:
            ``CPU_BATCH_TOKENS`` (2048) on a CPU when torch runs one thread (the activations
            of a smaller batch stay in the processor's cache: about 10% less CPU time per
            text than 64 texts of 110 tokens), else no limit (with several threads on a busy
            machine, each extra batch adds thread synchronisation that costs more).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        dtype: ``auto`` (bfloat16 on a GPU, float32 on CPU), ``float32``, ``bfloat16``, ``float16``.
        padding_side: ``left``/``right``; ``None`` keeps the tokenizer's own.
        trust_remote_code: run model code shipped with the checkpoint (off unless turned on).
        allow_download: fetch a Hugging Face id from the hub (off by default).
        revision: hub revision (branch, tag or commit) when downloading.
        progress: progress bars (loading the weights, :meth:`embed`): ``False`` never,
            ``True`` always, ``None`` only for long jobs.
    """

    def __init__(self, model: str = "minilm", pooling: str = "mean", normalize: bool = True,
                 max_length: int | None = None, batch_size: int = 64,
                 device: str | None = "auto", dtype: str | None = "auto",
                 padding_side: str | None = None, trust_remote_code: bool = False,
                 allow_download: bool = False, revision: str | None = None,
                 progress: bool | None = None, batch_tokens: int | str | None = "auto"):
        super().__init__()
        self.progress = progress
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {POOLINGS}")
        if padding_side not in (None, "left", "right"):
            raise ValueError(f"padding_side must be 'left', 'right' or None, not {padding_side!r}")
        self.resolved = resolve_model(model, allow_download=allow_download, revision=revision)
        self.pooling, self.normalize = pooling, bool(normalize)
        self.batch_size = int(batch_size)
        self.device_ = resolve_device(device)
        self.dtype_ = resolve_dtype(dtype, self.device_)
        if batch_tokens not in (None, "auto") and int(batch_tokens) < 1:
            raise ValueError(f"batch_tokens must be a positive integer, 'auto' or None, not "
                             f"{batch_tokens!r}")
        self.batch_tokens = batch_tokens if batch_tokens in (None, "auto") else int(batch_tokens)
        self.padding_side = padding_side
        self.trust_remote_code = bool(trust_remote_code)
        # config.json is read as JSON; transformers, the tokenizer and the weights load on
        # first use, so a cache hit never imports or loads them
        self.config = _read_config(self.resolved.path)
        self.dim = _first(self.config, ("hidden_size", "n_embd", "d_model", "dim"))
        if self.dim is None:  # an unusual config: let transformers interpret it
            from transformers import AutoConfig

            cfg = AutoConfig.from_pretrained(str(self.resolved.path),
                                             trust_remote_code=self.trust_remote_code)
            self.dim = cfg.hidden_size
        self.dim = int(self.dim)
        self.max_length = int(max_length) if max_length else self._default_max_length()
        self._tokenizer = None
        self.model = None
        #: layers below this index are frozen (set by set_trainable_layers / add_lora)
        self.frozen_layers: int | None = None

    def load(self) -> TextModel:
        """Load the tokenizer and the weights (once)."""
        if self.model is not None:
            return self
        from transformers import AutoModel, AutoTokenizer

        path = str(self.resolved.path)
        tok = AutoTokenizer.from_pretrained(path, trust_remote_code=self.trust_remote_code)
        if self.padding_side is not None:
            tok.padding_side = self.padding_side
        if tok.pad_token is None:  # decoder LLMs often ship without a pad token
            if tok.eos_token is None:
                raise ValueError(f"model {self.resolved.ref!r}: the tokenizer has neither a pad "
                                 "nor an eos token to pad batches with")
            tok.pad_token = tok.eos_token
        self._tokenizer = tok
        from transformers.utils import logging as hf_logging

        bars = hf_logging.is_progress_bar_enabled()
        if self.progress is False and bars:  # transformers' own "Loading weights" bar
            hf_logging.disable_progress_bar()
        try:
            model = AutoModel.from_pretrained(path, trust_remote_code=self.trust_remote_code,
                                              dtype=self.dtype_)
        finally:
            if bars and not hf_logging.is_progress_bar_enabled():
                hf_logging.enable_progress_bar()
        self.model = model.to(self.device_).eval()
        self._pass_positions = (self.model.config.model_type not in _POSITIONS_FROM_IDS
                                and "position_ids" in _forward_params(self.model))
        return self

    @property
    def tokenizer(self):
        return self.load()._tokenizer

    def _default_max_length(self) -> int:
        import json

        path = self.resolved.path
        for name, field in (("sentence_bert_config.json", "max_seq_length"),
                            ("tokenizer_config.json", "model_max_length")):
            try:
                value = json.loads((path / name).read_text()).get(field)
            except (OSError, ValueError):
                continue
            if isinstance(value, (int, float)) and 0 < value < 1_000_000:
                return int(value)
        cfg_limit = _first(self.config, ("max_position_embeddings", "n_positions", "n_ctx"))
        return int(min(x for x in (cfg_limit, 512) if x))

    # ------------------------------------------------------------------ identity
    @property
    def identity(self) -> dict:
        """What the embedding cache keys on (apart from template version and the texts).

        The padding side is not part of it: every pooling reads the attention mask and
        left padding gets mask-derived positions, so it does not change the vectors."""
        return {"model": self.resolved.identity, "pooling": self.pooling,
                "max_length": self.max_length, "dtype": str(self.dtype_).replace("torch.", "")}

    # ------------------------------------------------------------------ forward
    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text (special tokens added, truncated to ``max_length``)."""
        if isinstance(texts, str):
            raise TypeError("tokenize expects a list of texts, not one string")
        enc = self.tokenizer(list(texts), truncation=True, max_length=self.max_length,
                             padding=False, return_attention_mask=False)
        return enc["input_ids"]

    def collate(self, ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad token id lists on the tokenizer's padding side -> (input_ids, attention_mask)."""
        width = max(len(x) for x in ids)
        pad = int(self.tokenizer.pad_token_id)
        input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        left = self.tokenizer.padding_side == "left"
        for row, x in enumerate(ids):
            n = len(x)
            sl = slice(width - n, width) if left else slice(0, n)
            input_ids[row, sl] = torch.as_tensor(x, dtype=torch.long)
            mask[row, sl] = 1
        return input_ids, mask

    def _inputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict:
        """The model's keyword arguments on its device (position ids under left padding)."""
        self.load()
        device = next(self.model.parameters()).device  # follows .to() of an owning module
        inputs = {"input_ids": input_ids.to(device), "attention_mask": attention_mask.to(device)}
        if self._pass_positions and bool((inputs["attention_mask"][:, 0] == 0).any()):
            # left padding: positions count real tokens only, as if the text were unpadded
            inputs["position_ids"] = (inputs["attention_mask"].cumsum(1) - 1).clamp_min(0)
        return inputs

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                states: torch.Tensor | None = None) -> torch.Tensor:
        """Pooled (and, if configured, L2-normalised) vectors [B, H] in float32.

        ``states``: the token states [B, T, H] entering the first trainable layer
        (``cache_states.layer_states``, padded like ``input_ids``); only the layers from
        there on run.
        """
        inputs = self._inputs(input_ids, attention_mask)
        if states is None:
            out = self.model(**inputs)
        else:
            if self.frozen_layers is None:
                raise ValueError("token states were given, but no layers are frozen "
                                 "(set_trainable_layers / add_lora first)")
            out = run_from(self.model, self.frozen_layers, states, **inputs)
        vec = pool(out.last_hidden_state, inputs["attention_mask"], self.pooling).float()
        if self.normalize:
            vec = nn.functional.normalize(vec, dim=-1)
        return vec

    @property
    def token_budget(self) -> int | None:
        """``batch_tokens`` resolved for the current device and torch thread count."""
        if self.batch_tokens != "auto":
            return self.batch_tokens
        one_cpu_thread = self.device_.type == "cpu" and torch.get_num_threads() == 1
        return CPU_BATCH_TOKENS if one_cpu_thread else None

    def _batches(self, lengths: np.ndarray) -> list[slice]:
        """Consecutive batches over texts sorted longest first (``lengths``): at most
        ``batch_size`` texts and ``batch_tokens`` padded token positions each."""
        budget = self.token_budget
        out, start = [], 0
        while start < len(lengths):
            size = self.batch_size
            if budget:
                size = max(1, min(size, budget // max(int(lengths[start]), 1)))
            out.append(slice(start, start + size))
            start += size
        return out

    def train(self, mode: bool = True) -> TextModel:
        super().train(mode)
        if mode and self.frozen_layers is not None and self.model is not None:
            freeze_below(self.model, self.frozen_layers)  # frozen layers: no dropout
        return self

    def embed(self, texts: Sequence[str], progress: bool | None = None,
              desc: str = "encoding texts") -> np.ndarray:
        """Encode ``texts`` to a float32 array [N, H] without gradients.

        Texts are tokenized in one call, duplicates are encoded once, and batches are formed
        longest first from texts of similar token length, so padding (wasted compute) is
        small, and hold at most ``batch_size`` texts and ``batch_tokens`` token positions;
        the result is in the input order.
        """
        from tqdm.auto import tqdm

        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        distinct = list(dict.fromkeys(texts))
        if len(distinct) < len(texts):  # encode each distinct text once
            pos = {t: i for i, t in enumerate(distinct)}
            return self.embed(distinct, progress, desc)[[pos[t] for t in texts]]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        ids = self.tokenize(texts)
        lengths = np.array([len(x) for x in ids])
        order = np.argsort(-lengths, kind="stable")
        if progress is None:
            progress = self.progress
        if progress is None:
            progress = len(texts) > 4 * self.batch_size and not os.environ.get("CAUSALREC_QUIET")
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            for sl in tqdm(self._batches(lengths[order]), desc=desc, unit="batch",
                           disable=not progress):
                rows = order[sl]
                input_ids, mask = self.collate([ids[i] for i in rows])
                out[rows] = self.forward(input_ids, mask).cpu().numpy()
        if was_training:
            self.train(True)
        return out

    # ------------------------------------------------------------------ fine-tuning
    def set_trainable_layers(self, n: int) -> list[str]:
        """Freeze the model except its top ``n`` transformer layers (and any final norm
        after them); ``n = 0`` freezes everything. Returns the names of trainable params."""
        layers_name, layers = layer_stack(self.load().model)
        if n < 0 or n > len(layers):
            raise ValueError(f"trainable_layers={n}, but the model has {len(layers)} layers "
                             f"(in {layers_name!r})")
        names = [name for name, _ in self.model.named_parameters()]
        first_layer = next(i for i, name in enumerate(names) if name.startswith(layers_name + "."))
        trainable = []
        top = {f"{layers_name}.{i}." for i in range(len(layers) - n, len(layers))}
        for i, (name, p) in enumerate(self.model.named_parameters()):
            in_stack = name.startswith(layers_name + ".")
            # a final norm after the stack (GPT-2 ln_f, Llama norm); BERT's pooler is unused
            after_stack = not in_stack and i > first_layer and "pooler" not in name
            on = n > 0 and ((in_stack and any(name.startswith(t) for t in top)) or after_stack)
            p.requires_grad_(on)
            if on:
                trainable.append(name)
        self._freeze_below(len(layers) - n if n > 0 else None)
        return trainable

    def _freeze_below(self, layer: int | None) -> None:
        self.frozen_layers = layer
        if layer is not None and self.model.training:
            freeze_below(self.model, layer)


    def add_lora(self, layers: int, r: int = 8, alpha: float = 16.0, dropout: float = 0.0,
                 target_modules: Sequence[str] | None = None) -> list[str]:
        """Freeze the model and add LoRA adapters (Hu et al. 2022, "LoRA: Low-Rank
        Adaptation of Large Language Models", via the ``peft`` library) to the attention
        projections of its top ``layers`` transformer layers; only the adapters train. The
        adapters start at zero (``B = 0``), so the model's vectors are unchanged until
        trained. ``target_modules``: the projections' own names (default: query/value of
        BERT-like, GPT-2 and Llama-like models). Returns the trainable parameter names."""
        from peft import LoraConfig, inject_adapter_in_model

        model = self.load().model
        layers_name, stack = layer_stack(model)
        if not 1 <= layers <= len(stack):
            raise ValueError(f"lora on the top {layers} layers, but the model has "
                             f"{len(stack)} layers (in {layers_name!r})")
        wanted = set(target_modules or _LORA_TARGETS)
        top = tuple(f"{layers_name}.{i}." for i in range(len(stack) - layers, len(stack)))
        names = [name for name, m in model.named_modules()
                 if type(m).__name__ in ("Linear", "Conv1D") and name.startswith(top)
                 and name.rsplit(".", 1)[-1] in wanted]
        if not names:
            raise ValueError(f"no module named {sorted(wanted)} in the top {layers} layers of "
                             f"{type(model).__name__}; set lora.target_modules")
        for p in model.parameters():
            p.requires_grad_(False)
        inject_adapter_in_model(LoraConfig(r=int(r), lora_alpha=float(alpha),
                                           lora_dropout=float(dropout), target_modules=names),
                                model)
        self._freeze_below(len(stack) - layers)
        return [n for n, p in model.named_parameters() if p.requires_grad]


#: attention projections LoRA adapts by default (BERT/MiniLM, DistilBERT, GPT-2, Llama-like)
_LORA_TARGETS = ("query", "value", "q_lin", "v_lin", "c_attn", "q_proj", "v_proj")


def _read_config(path) -> dict:
    import json

    try:
        cfg = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the model config {path / 'config.json'}: {exc}") from exc
    if not isinstance(cfg, dict):
        raise ValueError(f"{path / 'config.json'} is not a JSON object")
    return cfg


def _first(cfg: dict, keys: tuple[str, ...]):
    for key in keys:
        if isinstance(cfg.get(key), int) and cfg[key] > 0:
            return cfg[key]
    return None


def _forward_params(model: nn.Module) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)
