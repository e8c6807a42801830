"""Fold-in: a user's free representation (an ID embedding) updated from new interactions
without retraining, everything else frozen.

After the fold-in of latent-factor models (Sarwar et al. 2002, "Incremental singular value
decomposition algorithms for highly scalable recommender systems"; Rendle and
Schmidt-Thieme 2008, "Online-updating regularized kernel matrix factorization models for
large-scale recommender systems"): the user's vector is the only free parameter; a few
gradient steps of the BPR objective (Rendle et al. 2009) on the head's own score ``s(u, i)``
pull the user's history above sampled unseen items, starting from the current vector, with a
proximal penalty ``prox * ||r - r_start||^2`` that keeps what training learnt. It works for
any head (dot product or not), because it only calls ``head.score`` with the user's
representation substituted through :meth:`~causalrec.encoders.Encoder.override_users`. The
negatives are drawn from a generator seeded by ``seed``, so a fold-in is deterministic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def fold_in(head, encoders: Sequence, user: int, start: Sequence[torch.Tensor],
            history: np.ndarray, n_items: int, steps: int = 40, lr: float = 0.05,
            prox: float = 0.01, negatives: int = 4, seed: int = 0) -> list[torch.Tensor]:
    """New representations (one ``[dim]`` row per encoder in ``encoders``) for ``user``
    whose item history is ``history``.

    Args:
        head: the head whose ``score(users, items)`` is the objective's score.
        encoders: the head's top-level encoders whose user rows are free; start: their
            current rows for the user.
        history: item indices the user interacted with (positives).
        steps, lr: Adam steps and learning rate; prox: proximal weight; negatives: sampled
            unseen items per positive and step.
    """
    history = np.unique(np.asarray(history, dtype=np.int64))
    rows = [r.detach().clone().float().reshape(-1).requires_grad_(True) for r in start]
    if len(history) == 0 or len(history) >= n_items:
        return [r.detach() for r in rows]
    anchors = [r.detach().clone() for r in rows]
    unseen = torch.from_numpy(np.setdiff1d(np.arange(n_items), history))
    pos = torch.from_numpy(history).repeat(negatives)
    users = torch.full((len(pos),), int(user), dtype=torch.long)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(rows, lr=lr)
    one = torch.tensor([int(user)])
    with torch.enable_grad():
        for _ in range(int(steps)):
            neg = unseen[torch.randint(len(unseen), (len(pos),), generator=gen)]
            with contextlib.ExitStack() as stack:
                for enc, r in zip(encoders, rows, strict=True):
                    stack.enter_context(enc.override_users(one, r.unsqueeze(0)))
                diff = head.score(users, pos) - head.score(users, neg)
            loss = -F.logsigmoid(diff).mean() + prox * sum(
                (r - a).pow(2).sum() for r, a in zip(rows, anchors, strict=True))
            grads = torch.autograd.grad(loss, rows)
            for r, g in zip(rows, grads, strict=True):
                r.grad = g
            opt.step()
    return [r.detach() for r in rows]
