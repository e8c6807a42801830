"""Build an encoder from its config (a ``conf/encoder/*.yaml``) over the training data."""

from __future__ import annotations

from .base import Encoder


def build_encoder(cfg, data) -> Encoder:
    """Instantiate ``cfg`` with ``data=<train InteractionData>``.

    The data is passed to the constructor directly: handing it to ``instantiate`` as a
    keyword would turn the InteractionData dataclass into a DictConfig.

    Example:
        >>> import torch
        >>> from causalrec.data import generate_interactions
        >>> from causalrec.encoders import build_encoder
        >>> data = generate_interactions(n_users=5, n_items=7, per_user=2, seed=0)
        >>> enc = build_encoder({"_target_": "causalrec.encoders.IDEncoder", "dim": 4}, data)
        >>> type(enc).__name__, enc.n_users, enc.n_items, enc.dim
        ('IDEncoder', 5, 7, 4)
        >>> enc.encode_users(torch.tensor([0, 3])).shape, enc.all_items().shape
        (torch.Size([2, 4]), torch.Size([7, 4]))
    """
    from hydra.utils import instantiate

    factory = instantiate(cfg, _partial_=True)
    return factory(data=data)
