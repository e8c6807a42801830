"""What a Recommender needs at inference, written into a run directory at training time and
read back without the dataset: ``<run_dir>/inference/``.

Layout (every file written inside one staging folder that appears atomically):

* ``manifest.json``: format version, sizes, encoder/head classes, the checkpoint to load
  (relative to the run directory) and the sha256 of every file below;
* ``config.yaml``: the resolved config (encoder, head and model sections rebuild the module);
* ``user_ids.parquet`` / ``item_ids.parquet``: raw ids by index;
* ``seen.npz``: CSR (``indptr``, ``indices``) of each user's positive train + validation
  items, the items ``recommend(..., exclude_seen=True)`` masks (as the test evaluation does);
* ``train.parquet`` (+ ``user_features.parquet`` / ``item_features.parquet``, ``meta.json``):
  the training split's interaction columns without any text, which heads read at
  construction (propensity models, popularity buffers);
* ``model.pt``: the module's ``state_dict`` when no checkpoint file is referenced.

Text never goes here: the encoders' text vectors, centring means, projections, token ids,
histories and sequences are in the checkpoint's ``state_dict`` (see
:mod:`causalrec.encoders.base`). Everything is read with ``torch.load(weights_only=True)``,
parquet, JSON and ``numpy.load(allow_pickle=False)``: no pickle.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

FORMAT = 1
INFERENCE_DIR = "inference"
_TEXT_FREE_COLUMNS = ("user", "item", "label", "rating", "timestamp", "exposure", "propensity",
                      "policy", "position")


def seen_matrix(split):
    """CSR of each user's positive train + validation items (the test-time exclusion)."""
    m = (split.train.csr() + split.valid.csr()).tocsr()
    m.data[:] = 1.0
    return m


def _parquet(df: pd.DataFrame, path: Path) -> None:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    path.write_bytes(buf.getvalue())


def write_inference(run_dir: str | os.PathLike, module, train_data, seen, config_yaml: str,
                    checkpoint: str | None = None) -> Path:
    """Write ``<run_dir>/inference/`` for ``module`` trained on ``train_data``.

    Args:
        module: the trained :class:`~causalrec.models.CausalRecModule` (its weights are
            saved to ``model.pt`` unless ``checkpoint`` names a file holding them).
        train_data: the training split (InteractionData); seen: CSR of seen items.
        config_yaml: the resolved config as YAML.
        checkpoint: path of a Lightning checkpoint relative to ``run_dir`` with the same
            weights (``checkpoints/best.ckpt``), or ``None``.
    """
    import torch

    from ..atomic import staging_dir, write_json

    run_dir = Path(run_dir)
    if checkpoint is not None and not (run_dir / checkpoint).is_file():
        raise FileNotFoundError(f"checkpoint {run_dir / checkpoint} does not exist")
    final = run_dir / INFERENCE_DIR
    with staging_dir(final) as tmp:
        (tmp / "config.yaml").write_text(config_yaml)
        _parquet(pd.DataFrame({"id": np.asarray(train_data.user_ids).astype(str)}),
                 tmp / "user_ids.parquet")
        _parquet(pd.DataFrame({"id": np.asarray(train_data.item_ids).astype(str)}),
                 tmp / "item_ids.parquet")
        seen = seen.tocsr()
        np.savez(tmp / "seen.npz", indptr=seen.indptr.astype(np.int64),
                 indices=seen.indices.astype(np.int64), shape=np.asarray(seen.shape))
        inter = train_data.interactions
        _parquet(inter[[c for c in _TEXT_FREE_COLUMNS if c in inter.columns]],
                 tmp / "train.parquet")
        for side in ("user", "item"):
            table = getattr(train_data, f"{side}_features")
            if table is not None:
                table.reset_index(drop=True).to_parquet(tmp / f"{side}_features.parquet")
        meta = {"name": train_data.name, "source": str(train_data.source),
                "meta": train_data.meta}
        (tmp / "meta.json").write_text(json.dumps(meta, default=str, sort_keys=True))
        if checkpoint is None:
            buf = io.BytesIO()
            torch.save({"state_dict": module.state_dict()}, buf)
            (tmp / "model.pt").write_bytes(buf.getvalue())
            checkpoint = f"{INFERENCE_DIR}/model.pt"
        files = sorted(p.name for p in tmp.iterdir())
        write_json(tmp / "manifest.json", {
            "format": FORMAT, "n_users": int(train_data.n_users),
            "n_items": int(train_data.n_items), "checkpoint": checkpoint,
            "encoder": type(module.encoder).__name__, "head": type(module.head).__name__,
            "dim": int(module.encoder.dim),
            "sha256": {name: _sha256(tmp / name) for name in files}})
    return final


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_inference(run_dir: str | os.PathLike) -> dict:
    """Read ``<run_dir>/inference/``: ``{"module", "train_data", "seen", "manifest"}``, the
    module rebuilt from the saved config as a shell (no texts embedded, no dataset loaded)
    and filled from the saved weights, in eval mode."""
    import scipy.sparse as sp
    import torch
    from omegaconf import OmegaConf

    from ..data.schema import InteractionData
    from ..encoders.base import adopt_buffer_shapes, restoring_state
    from ..models.build import build_module

    run_dir = Path(run_dir)
    folder = run_dir / INFERENCE_DIR
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {run_dir} does not exist")
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"{run_dir} has no {INFERENCE_DIR}/manifest.json: not a finished causalrec-train "
            "run with a checkpoint (runs write it after testing the best checkpoint)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{manifest_path}: format {manifest.get('format')!r}, this causalrec "
                         f"reads format {FORMAT}")
    for name, digest in manifest["sha256"].items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise ValueError(f"{path} is missing or changed since the run wrote it (sha256 "
                             "mismatch); the inference folder is not trustworthy")
    ckpt = run_dir / manifest["checkpoint"]
    if not ckpt.is_file():
        raise FileNotFoundError(f"{run_dir}: checkpoint {ckpt} (named in {manifest_path}) "
                                "does not exist")
    ids = {side: pd.read_parquet(folder / f"{side}_ids.parquet")["id"].to_numpy(object)
           for side in ("user", "item")}
    features = {side: pd.read_parquet(folder / f"{side}_features.parquet")
                if (folder / f"{side}_features.parquet").is_file() else None
                for side in ("user", "item")}
    meta = json.loads((folder / "meta.json").read_text())
    train = InteractionData(
        pd.read_parquet(folder / "train.parquet"), n_users=manifest["n_users"],
        n_items=manifest["n_items"], user_ids=ids["user"], item_ids=ids["item"],
        user_features=features["user"], item_features=features["item"], name=meta["name"],
        source=f"{folder} (inference snapshot of {meta['source']})", meta=meta["meta"],
        allow_empty=True)
    with np.load(folder / "seen.npz", allow_pickle=False) as z:
        seen = sp.csr_matrix((np.ones(len(z["indices"]), dtype=np.float32), z["indices"],
                              z["indptr"]), shape=tuple(int(x) for x in z["shape"]))
    cfg = OmegaConf.load(folder / "config.yaml")
    with restoring_state():
        module = build_module(cfg, train, with_optimizer=False)
    state = torch.load(ckpt, weights_only=True, map_location="cpu")["state_dict"]
    adopt_buffer_shapes(module, state)
    module.load_state_dict(state)
    return {"module": module.eval(), "train_data": train, "seen": seen, "manifest": manifest,
            "config": cfg}
