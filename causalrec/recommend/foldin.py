"""Fold-in: a user's free representation (an ID embedding) updated from new interactions
without retraining, everything else frozen.

Two methods: :func:`fold_in`, gradient steps for any head (below), and
:class:`RidgeFoldIn`, a closed form for dot-product heads (one ``dim x dim`` solve), the
Recommender's default for them (``fold_in={"method": "auto"}``; ``"gradient"`` or
``"ridge"`` to choose).

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


# ---------------------------------------------------------------------- closed form
#: fold-in options of the closed form (``fold_in={"method": "ridge", ...}``)
RIDGE_OPTIONS = ("alpha", "reg", "calibrate", "target")


def auto_target(items: torch.Tensor, start: torch.Tensor, base) -> float:
    """The ``"auto"`` target of :class:`RidgeFoldIn`: the largest score of a ``base`` item
    under ``start``, so the target is on the head's own score scale; 1 when that is not
    positive (or ``base`` is empty)."""
    base = np.asarray(base, dtype=np.int64)
    top = float((items[torch.from_numpy(base)].double() @ start.double().reshape(-1)).max()) \
        if len(base) else 0.0
    return top if top > 0 else 1.0


class RidgeFoldIn:
    """Closed-form fold-in of one user of a dot-product head (``s(u, i) = r . v_i``).

    Implicit-feedback least squares after Hu, Koren and Volinsky (2008), "Collaborative
    filtering for implicit feedback datasets" (ICDM), with the item vectors ``V`` frozen:
    every catalogue item has target ``p_i = t`` if it is in the history ``H`` else 0 and
    confidence ``c_i = 1 + alpha`` on ``H`` else 1, plus a ridge pull toward a prior mean
    ``m``::

        r(H) = argmin_r  sum_i c_i (p_i - r . v_i)^2 + reg * ||r - m||^2
             = (V^T V + alpha V_H^T V_H + reg I)^{-1} ((1 + alpha) t V_H^T 1 + reg m)

    one ``dim x dim`` solve (``V^T V`` over the whole catalogue is computed once, the HKV
    trick), deterministic (no sampled negatives: every item outside ``H``, including an item
    just removed, is a 0-target). Items removed from the history thus become negatives.

    ``calibrate=False``: ``m = start`` (the trained vector), so the fold-in of the unchanged
    history moves the vector by at most ``||A_B start - b_B|| / reg`` (``A``, ``b`` the
    normal equations without the ridge term, ``B`` the base history) and every score by at
    most ``||v_i||`` times that. ``calibrate=True`` (default): ``m = start + (A_B start -
    b_B) / reg``, the prior mean for which the base history's solution *is* the trained
    vector, so removing nothing changes nothing (up to rounding) and a removal of ``R``
    moves the vector by ``-(A_{B-R} + reg I)^{-1} V_R^T ((1 + alpha) t - alpha V_R start)``,
    the exact leave-out update of the ridge regression (an influence function without
    approximation).

    ``calibrate="share"`` (the Recommender's default): ``m = prior`` (the population's mean
    user vector), and the part of the trained vector the least squares does not explain,
    ``e = start - r_prior(B)``, is shared evenly by the base items: ``r(H) = r_prior(H) +
    (|H & B| / |B|) e``. The unchanged history again gives back ``start``, but a user left
    with none of their items is a new user (``r_prior`` of what remains), not the trained
    vector: with ``calibrate=True`` the prior mean keeps everything the history taught, so
    removing a small user's whole history barely moves them.

    The target ``t`` is on the head's score scale: a BPR-trained vector may score its
    history well above 1 (about 3 on ml-100k) or well below (about 0.5 on a small
    simulator), and a fixed ``t = 1`` then either turns the residual above negative (a
    removal pulls the user *toward* the removed item) or inflates it (one removal moves the
    vector by about its own length). ``target="auto"`` (default) takes ``t = max_{h in B}
    start . v_h`` (``auto_target`` in this module; 1 if that is not positive), so every residual is
    positive, a removal always moves the vector away from the removed items, and rescaling
    the vectors rescales the fold-in with them.

    Args:
        items: ``[n_items, dim]`` item vectors.
        start: ``[dim]`` the user's current vector.
        base: the history ``start`` stands for.
        alpha: extra confidence of history items.
        reg: ridge weight (> 0).
        calibrate: ``True``: the prior mean for which ``base`` gives back ``start``;
            ``"share"``: ``prior`` plus the residual shared by the base items; ``False``:
            ``m = start`` (above).
        target: ``t`` (a number or ``"auto"``).
        gram: ``V^T V`` if already computed (float64).
        prior: the prior mean of ``calibrate="share"`` (default ``start``).
    """

    def __init__(self, items: torch.Tensor, start: torch.Tensor, base, alpha: float = 10.0,
                 reg: float = 1.0, calibrate: bool | str = True, target: float | str = "auto",
                 gram: torch.Tensor | None = None, prior: torch.Tensor | None = None) -> None:
        if not reg > 0:
            raise ValueError(f"ridge fold-in needs reg > 0, got reg={reg!r}")
        if not alpha >= 0:
            raise ValueError(f"ridge fold-in needs alpha >= 0, got alpha={alpha!r}")
        self.V = items.detach().to(torch.float64)
        self.alpha, self.reg = float(alpha), float(reg)
        self.gram = self.V.T @ self.V if gram is None else gram.to(torch.float64)
        self.start = start.detach().reshape(-1).to(torch.float64)
        self.base = np.unique(np.asarray(base, dtype=np.int64))
        if target == "auto":
            target = auto_target(self.V, self.start, self.base)
        if isinstance(target, str) or not target > 0:
            raise ValueError(f"ridge fold-in target must be a positive number or 'auto', got "
                             f"{target!r}")
        self.target = float(target)
        if calibrate not in (True, False, "share"):
            raise ValueError(f"ridge fold-in calibrate must be True, False or 'share', got "
                             f"{calibrate!r}")
        self.A_base, self.b_base = self.normal(self.base)
        self.eye = torch.eye(self.V.shape[1], dtype=torch.float64)
        self.mean = self.start.clone()
        self.residual = None
        if calibrate == "share":
            self.mean = self.start.clone() if prior is None else \
                prior.detach().reshape(-1).to(torch.float64)
            fit = self._solve(self.A_base[None], self.b_base[None], raw=True)[0]
            self.residual = self.start - fit
        elif calibrate:
            self.mean = self.start + (self.A_base @ self.start - self.b_base) / self.reg

    def normal(self, history) -> tuple[torch.Tensor, torch.Tensor]:
        """``(A, b)`` of the least squares without the ridge term for ``history``."""
        vh = self.V[torch.from_numpy(np.ascontiguousarray(history, dtype=np.int64))]
        return self.gram + self.alpha * vh.T @ vh, (1 + self.alpha) * self.target * vh.sum(0)

    def solve(self, history) -> torch.Tensor:
        """``r(history)`` as a float32 ``[dim]`` row."""
        return self.solve_many([history])[0]

    def solve_many(self, histories) -> torch.Tensor:
        """``[P, dim]``: :meth:`solve` of each history (one batched solve)."""
        A, b, kept = [], [], []
        for history in histories:
            history = np.unique(np.asarray(history, dtype=np.int64))
            a_, b_ = self.normal(history)
            A.append(a_)
            b.append(b_)
            kept.append(len(np.intersect1d(history, self.base)))
        if not A:
            return torch.zeros(0, self.V.shape[1])
        return self._solve(torch.stack(A), torch.stack(b), kept)

    def without(self, removals) -> torch.Tensor:
        """``[P, dim]``: ``r(base - R_p)`` for each set ``R_p`` of base items (one batched
        solve)."""
        A, b, kept = [], [], []
        for rem in removals:
            rem = np.intersect1d(np.asarray(rem, dtype=np.int64), self.base)
            vr = self.V[torch.from_numpy(rem)]
            A.append(self.A_base - self.alpha * vr.T @ vr)
            b.append(self.b_base - (1 + self.alpha) * self.target * vr.sum(0))
            kept.append(len(self.base) - len(rem))
        return self._solve(torch.stack(A), torch.stack(b), kept)

    def without_prefixes(self, order, limit: int, chunk: int = 256) -> torch.Tensor:
        """``[limit, dim]``: row ``m - 1`` is ``r(base - order[:m])`` (``order``: distinct
        base items), by cumulative sums of the removed items' outer products."""
        return self._prefixes(order, limit, -1.0, chunk)

    def with_prefixes(self, order, limit: int, chunk: int = 256) -> torch.Tensor:
        """``[limit, dim]``: row ``m - 1`` is ``r(base + order[:m])`` (``order``: distinct
        items outside the base), e.g. a new user (empty base) who has only ``order[:m]``."""
        return self._prefixes(order, limit, 1.0, chunk)

    def _prefixes(self, order, limit: int, sign: float, chunk: int) -> torch.Tensor:
        vr = self.V[torch.from_numpy(np.ascontiguousarray(order[:limit], dtype=np.int64))]
        out, A_run, b_run = [], self.A_base, self.b_base
        for s in range(0, len(vr), chunk):
            v = vr[s:s + chunk]
            A = A_run + sign * self.alpha * torch.cumsum(v[:, :, None] * v[:, None, :], 0)
            b = b_run + sign * (1 + self.alpha) * self.target * torch.cumsum(v, 0)
            m = np.arange(s + 1, s + len(v) + 1)
            out.append(self._solve(A, b, len(self.base) - m if sign < 0 else
                                   np.full(len(v), len(self.base))))
            A_run, b_run = A[-1], b[-1]
        return torch.cat(out) if out else torch.zeros(0, self.V.shape[1])

    def _solve(self, A: torch.Tensor, b: torch.Tensor, kept=None,
               raw: bool = False) -> torch.Tensor:
        """Solutions for stacked normal equations; ``kept``: how many base items each keeps
        (their share of the residual, ``calibrate="share"``)."""
        rhs = b + self.reg * self.mean
        r = torch.linalg.solve(A + self.reg * self.eye, rhs.unsqueeze(-1))[..., 0]
        if raw:
            return r
        if self.residual is not None and len(self.base):
            w = torch.as_tensor(np.asarray(kept, dtype=np.float64) / len(self.base))
            r = r + w[:, None] * self.residual
        return r.float()
