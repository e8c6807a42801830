"""Per-unit gradient clipping that only touches the embedding rows a unit used.

DP-SGD (Abadi et al. 2016, "Deep Learning with Differential Privacy") clips each privacy
unit's gradient to norm ``C`` before summing. Materialising one full gradient per unit is
what makes naive DP-SGD on embedding tables slow (a user's gradient is a copy of every
table). Like Opacus's hooks and the "book-keeping" of Bu et al. 2023 ("Differentially
Private Optimization on Large Model at Small Cost", ICML), this clipper records, during the
ordinary forward and backward pass, each layer's inputs and the gradient of the loss with
respect to its outputs, and derives from them

* each unit's gradient norm: for an ``nn.Embedding`` the unit's gradient is non-zero only on
  the rows it looked up, so the norm is a sum over (unit, row) pairs, O(rows * dim); for an
  ``nn.Linear`` the unit's weight gradient ``sum_r g_r a_r^T`` is either formed per unit or
  its norm is taken with the Gram trick ``sum_{r,s} (g_r . g_s)(a_r . a_s)`` (ghost clipping,
  Li et al. 2022, "Large Language Models Can Be Strong Differentially Private Learners"),
  whichever is cheaper;
* the clipped sum ``sum_units min(1, C / ||grad_unit||) grad_unit`` in one pass, without a
  second backward.

Rows are attributed to units through the batch's ``group`` column; a layer called on ``k``
times the batch's rows (e.g. a pairwise batch viewed as positives then negatives) has its
rows attributed in that order. The decomposition is exact only for losses that are a mean or
sum of per-row terms, which is why the set of supported heads is closed
(:mod:`causalrec.privacy.engine`). On the first step the clipper checks that its unclipped
sum reproduces autograd's gradient for every parameter it clips, so a parameter used outside
a hooked layer is an error, never a silent leak.
"""

from __future__ import annotations

import torch
from torch import nn

SUPPORTED_LAYERS = (nn.Embedding, nn.Linear)


def trainable_layers(model: nn.Module, what: str) -> dict[str, nn.Module]:
    """The Embedding/Linear submodules holding trainable parameters; any other module with
    a trainable parameter of its own is a ValueError naming it and ``what``."""
    layers = {}
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if p.requires_grad]
        if not own:
            continue
        if not isinstance(module, SUPPORTED_LAYERS):
            raise ValueError(
                f"privacy=dp cannot clip per unit through {name or 'the model'!r} "
                f"({type(module).__name__}) with trainable parameters; {what} is not "
                "supported (supported trainable layers: Embedding, Linear; e.g. encoder=id, "
                "or encoder=minilm/hybrid with trainable_layers: 0)")
        layers[name] = module
    return layers


class GroupClipper:
    """Records per-row activations and output gradients and clips per group.

    Args:
        layers: ``{name: module}`` of Embedding/Linear layers (see ``trainable_layers`` in this module).
        clip_norm: the clipping bound ``C`` on each unit's gradient (over all clipped params).
        local: names of layers whose parameters are not clipped or noised (per-user tables
            under joint DP); their autograd gradient is left as it is.
    """

    def __init__(self, layers: dict[str, nn.Module], clip_norm: float,
                 local: tuple[str, ...] = ()):
        self.layers, self.clip_norm, self.local = dict(layers), float(clip_norm), set(local)
        self._names = {id(m): n for n, m in self.layers.items()}
        self._handles = [m.register_forward_hook(self._hook) for m in self.layers.values()]
        self._calls: dict[str, list[list]] = {}
        self.active = False
        self.groups: torch.Tensor | None = None
        self.last_stats: dict[str, float] = {}

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    # ------------------------------------------------------------------ recording
    def begin(self, groups: torch.Tensor) -> None:
        """Start a step whose batch rows belong to units ``groups`` (-1: a placeholder row
        that contributes nothing)."""
        self.groups = groups.long()
        self._calls = {}
        self._cut: set[str] = set()
        self.active = True

    def _hook(self, module, inputs, output):
        if not self.active or not torch.is_grad_enabled() or not output.requires_grad:
            return
        name = self._names[id(module)]
        if name in self.local:
            self._calls.setdefault(name, []).append([inputs[0].detach(), None])
            return
        x = inputs[0]
        if output.dim() != 2:
            raise ValueError(f"privacy=dp: layer {name!r} produced a {tuple(output.shape)} "
                             "output; per-unit clipping supports one vector per batch row")
        record = [x.detach(), None]
        self._calls.setdefault(name, []).append(record)
        cut = not x.requires_grad
        if cut:  # nothing upstream needs a gradient: autograd stops at this output (the
            # parameter's own gradient is formed from the records, not computed twice)
            output = output.detach().requires_grad_(True)
            self._cut.add(name)

        def save(grad, record=record):
            record[1] = grad.detach()

        output.register_hook(save)
        return output if cut else None

    def _batch_rows(self, name: str, n_rows: int) -> torch.Tensor:
        """The batch row of each of a layer call's ``n_rows`` rows (k calls' worth of the
        batch, in order), or a ValueError when they cannot be attributed."""
        b = len(self.groups)
        if n_rows % b:
            raise ValueError(
                f"privacy=dp: layer {name!r} was called on {n_rows} rows for a batch of {b}; its "
                "rows cannot be attributed to privacy units (an encoder that pools over other "
                "users' or items' rows, e.g. encoder.users=history, is not supported)")
        return torch.arange(b, device=self.groups.device).repeat(n_rows // b)

    # ------------------------------------------------------------------ clipping
    def finish(self, scale: float, check_against_autograd: bool = False) -> dict[nn.Parameter,
                                                                                   torch.Tensor]:
        """Clipped per-unit gradient sums ``{param: tensor}`` of every clipped layer's
        parameters. ``scale`` turns the recorded gradients of the batch loss into per-row
        gradients (the number of rows for a mean loss). Ends the step."""
        self.active = False
        uniq, inverse = torch.unique(self.groups, return_inverse=True)
        n_groups = len(uniq)
        data = {}
        sq = torch.zeros(n_groups, dtype=torch.float64, device=self.groups.device)
        for name, calls in self._calls.items():
            if name in self.local:
                self._check_local(name, calls)
                continue
            done = [c for c in calls if c[1] is not None]
            if not done:
                continue
            module = self.layers[name]
            xs = torch.cat([c[0].reshape(len(c[1]), -1) if isinstance(module, nn.Linear)
                            else c[0].reshape(-1) for c in done])
            gs = torch.cat([c[1] for c in done]) * scale
            grp = torch.cat([inverse[self._batch_rows(name, len(c[1]))] for c in done])
            norms2, stack = self._sq_norms(module, xs, gs, grp, n_groups)
            data[name] = (xs, gs, grp, stack)
            sq += norms2.to(sq.dtype)
        norms = sq.sqrt()
        factor = torch.clamp(self.clip_norm / (norms + 1e-6), max=1.0)
        factor[uniq < 0] = 0.0
        self.last_stats = {"clipped_share": float((norms > self.clip_norm).float().mean()),
                           "mean_norm": float(norms[uniq >= 0].mean()) if (uniq >= 0).any()
                           else 0.0}
        out: dict[nn.Parameter, torch.Tensor] = {}
        for name, (xs, gs, grp, stack) in data.items():
            module = self.layers[name]
            w = factor.to(gs.dtype)[grp].unsqueeze(1)
            grads = self._sums(module, xs, gs * w, skip_weight=stack is not None)
            if stack is not None:  # the per-unit weight gradients were formed for the norms
                grads[module.weight] = torch.einsum("g,goi->oi", factor.to(stack.dtype),
                                                    stack).to(module.weight.dtype)
            if check_against_autograd:
                raw = self._sums(module, xs, gs / scale)
                for p, g in raw.items():
                    if name in self._cut:  # autograd stopped at the output: p.grad is empty
                        self._check(name, p, torch.zeros_like(g))
                    else:
                        self._check(name, p, g)
            out.update(grads)
        for name, module in self.layers.items():
            if name in self.local:
                continue
            for p in module.parameters(recurse=False):
                if p.requires_grad and p not in out:
                    if check_against_autograd and p.grad is not None and bool(p.grad.any()):
                        raise ValueError(f"privacy=dp: parameter of {name!r} received a gradient "
                                         "outside its layer's forward call; it cannot be clipped "
                                         "per unit")
                    out[p] = torch.zeros_like(p)
        self._calls = {}
        return out

    def _check_local(self, name: str, calls: list) -> None:
        """A local (per-user) table must be looked up by the batch's own users only."""
        for idx, _ in calls:
            if idx.dim() != 1 or len(idx) % len(self.groups):
                raise ValueError(f"privacy.user_params=local: {name!r} is not looked up once per "
                                 "batch row by user id")

    @staticmethod
    def _sq_norms(module, xs, gs, grp, n_groups) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Squared norm of each group's gradient of ``module``'s parameters, and, when they
        were formed (a Linear layer, few units), the per-group weight gradients
        [groups, out, in]."""
        if isinstance(module, nn.Embedding):
            keys = grp.long() * module.num_embeddings + xs.long()
            ukeys, inv = torch.unique(keys, return_inverse=True)
            summed = torch.zeros(len(ukeys), gs.shape[1], dtype=gs.dtype, device=gs.device)
            summed.index_add_(0, inv, gs)
            per_key = summed.pow(2).sum(1)
            key_group = torch.div(ukeys, module.num_embeddings, rounding_mode="floor")
            return torch.zeros(n_groups, dtype=gs.dtype, device=gs.device).index_add_(
                0, key_group, per_key), None
        out = torch.zeros(n_groups, dtype=gs.dtype, device=gs.device)
        if module.bias is not None and module.bias.requires_grad:
            b = torch.zeros(n_groups, gs.shape[1], dtype=gs.dtype, device=gs.device)
            out += b.index_add_(0, grp, gs).pow(2).sum(1)
        if not module.weight.requires_grad:
            return out, None
        order = torch.argsort(grp, stable=True)
        xs, gs, grp = xs[order], gs[order], grp[order]
        counts = torch.bincount(grp, minlength=n_groups)
        starts = torch.cumsum(counts, 0) - counts
        din, dout = xs.shape[1], gs.shape[1]
        # a unit with n rows: the Gram trick costs n^2 (din + dout), forming its gradient
        # costs n din dout; small units go through a padded batch of Gram matrices, the few
        # large ones (heavy users) through one matmul each on their contiguous rows
        # (up to a few hundred units, e.g. user-level batches, a loop of matmuls is cheapest)
        small = counts <= int((din * dout) ** 0.5) if n_groups > 512 else counts < 0
        stack = None
        if not bool(small.any()) and n_groups * din * dout <= (1 << 25):
            stack = torch.zeros(n_groups, dout, din, dtype=gs.dtype, device=gs.device)
        for k in torch.nonzero(~small & (counts > 0)).flatten().tolist():
            s, e = int(starts[k]), int(starts[k] + counts[k])
            gk = gs[s:e].transpose(0, 1) @ xs[s:e]
            out[k] += gk.pow(2).sum()
            if stack is not None:
                stack[k] = gk
        rows = small[grp]
        if not bool(rows.any()):
            return out, stack
        sgrp, sx, sg = grp[rows], xs[rows], gs[rows]
        pos = torch.arange(len(grp), device=grp.device)[rows] - starts[sgrp]
        ids, local = torch.unique(sgrp, return_inverse=True)
        longest = int(counts[ids].max())
        chunk = max(1, (1 << 22) // max(1, longest * longest + longest * (din + dout)))
        for lo in range(0, len(ids), chunk):
            hi = min(len(ids), lo + chunk)
            sel = (local >= lo) & (local < hi)
            a = torch.zeros(hi - lo, longest, din, dtype=xs.dtype, device=xs.device)
            g = torch.zeros(hi - lo, longest, dout, dtype=gs.dtype, device=gs.device)
            a[local[sel] - lo, pos[sel]] = sx[sel]
            g[local[sel] - lo, pos[sel]] = sg[sel]
            # ghost norm: ||sum_r g_r a_r^T||^2 = sum_{r,s} (g_r . g_s)(a_r . a_s)
            out[ids[lo:hi]] += (a @ a.transpose(1, 2) * (g @ g.transpose(1, 2))).sum((1, 2))
        return out, None

    @staticmethod
    def _sums(module, xs, gs, skip_weight: bool = False) -> dict[nn.Parameter, torch.Tensor]:
        """Gradient of ``module``'s parameters given per-row inputs and output gradients."""
        if isinstance(module, nn.Embedding):
            g = torch.zeros_like(module.weight)
            return {module.weight: g.index_add_(0, xs.long(), gs.to(g.dtype))}
        out = {}
        if module.weight.requires_grad and not skip_weight:
            out[module.weight] = (gs.transpose(0, 1) @ xs).to(module.weight.dtype)
        if module.bias is not None and module.bias.requires_grad:
            out[module.bias] = gs.sum(0).to(module.bias.dtype)
        return out

    @staticmethod
    def _check(name: str, p: nn.Parameter, g: torch.Tensor) -> None:
        ref = p.grad if p.grad is not None else torch.zeros_like(p)
        if not torch.allclose(g, ref, rtol=1e-3, atol=1e-6 * max(1.0, float(ref.abs().max()))):
            err = float((g - ref).abs().max())
            raise ValueError(f"privacy=dp: the per-unit gradients of {name!r} do not add up to "
                             f"autograd's gradient (max difference {err:.3g}); the parameter is "
                             "used outside its layer's forward call and cannot be clipped")
