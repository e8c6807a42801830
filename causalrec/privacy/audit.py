"""Membership-inference audit of a trained recommender, at the level of users.

The question a DP guarantee answers is whether an attacker holding the released model can
tell if a given user's data was in the training set. The audit trains a target model on a
random half of the users (members), keeps the other half out (non-members), and scores every
user with an attack statistic; attack AUC and advantage (max over thresholds of TPR − FPR)
are then compared with the largest advantage any attack can reach under (ε, δ)-DP,
:func:`~causalrec.privacy.accountant.advantage_bound`.

Two attacks:

* **loss threshold** (Yeom et al. 2018, "Privacy Risk in Machine Learning: Analyzing the
  Connection to Overfitting"): the user's mean pairwise loss ``-log σ(s(u,i) − s(u,j))`` over
  their interactions ``i`` against sampled non-interacted items ``j``; members have lower loss.
* **offline LiRA** (Carlini et al. 2022, "Membership Inference Attacks From First
  Principles", the offline variant with a global variance): shadow models are trained with
  the same algorithm on random halves of the population; each user's statistic is their
  target-model score standardised by the scores that shadow models *without* them give, which
  removes how easy a user is to fit in the first place.
"""

from __future__ import annotations

import numpy as np
import torch

from .accountant import advantage_bound


def membership_split(data, member_share: float = 0.5, seed: int = 0):
    """(members, non_members, member_data): a random ``member_share`` of the users that
    have interactions, and ``data`` restricted to the members' rows (same index spaces)."""
    if not 0 < member_share < 1:
        raise ValueError(f"member_share must lie in (0, 1), got {member_share!r}")
    users = np.unique(data.interactions["user"].to_numpy())
    rng = np.random.default_rng([seed, 0xA0D1])
    is_member = rng.random(len(users)) < member_share
    members, non_members = users[is_member], users[~is_member]
    rows = np.isin(data.interactions["user"].to_numpy(), members)
    return members, non_members, data.subset(rows, name=f"{data.name}-members")


@torch.no_grad()
def loss_scores(module, data, users: np.ndarray, seed: int = 0) -> np.ndarray:
    """Attack statistic per user (higher: more likely a member): minus the mean pairwise
    loss of the user's positive interactions in ``data`` against one uniformly sampled
    item the user never interacted with, scored by ``module.head.score``."""
    from ..data.datamodule import _positive_keys, sample_negatives

    df = data.interactions
    if data.target_column == "label":
        df = df[df["label"] > 0]
    df = df[df["user"].isin(users)]
    u = df["user"].to_numpy(np.int64)
    i = df["item"].to_numpy(np.int64)
    rng = np.random.default_rng([seed, 0x1055])
    j = sample_negatives(rng, u, data.n_items, _positive_keys(data))
    module.eval()
    head = module.head
    device = next(module.parameters()).device
    tu, ti, tj = (torch.as_tensor(a, device=device) for a in (u, i, j))
    margin = head.score(tu, ti).float() - head.score(tu, tj).float()
    loss = -torch.nn.functional.logsigmoid(margin).cpu().numpy().astype(np.float64)
    sums = np.bincount(u, weights=loss, minlength=data.n_users)
    counts = np.bincount(u, minlength=data.n_users)
    users = np.asarray(users, dtype=np.int64)
    if (counts[users] == 0).any():
        bad = users[counts[users] == 0][:5].tolist()
        raise ValueError(f"users {bad} have no positive interactions in the audit data")
    return -(sums[users] / counts[users])


def attack_metrics(member_scores, non_member_scores) -> dict[str, float]:
    """Attack AUC (Mann-Whitney, ties count one half) and advantage ``max_t TPR − FPR``
    of the rule "member if score >= t", over every threshold.

    Example:
        5 of the 6 (member, non-member) pairs are ordered correctly, and the threshold 0.8
        catches 2 of 3 members and no non-member:

        >>> from causalrec.privacy import attack_metrics
        >>> m = attack_metrics([0.9, 0.8, 0.4], [0.5, 0.1])
        >>> round(m["auc"], 4), round(m["advantage"], 4)
        (0.8333, 0.6667)
    """
    m = np.asarray(member_scores, dtype=np.float64)
    n = np.asarray(non_member_scores, dtype=np.float64)
    if len(m) == 0 or len(n) == 0:
        raise ValueError("attack_metrics needs at least one member and one non-member score")
    scores = np.r_[m, n]
    is_member = np.r_[np.ones(len(m)), np.zeros(len(n))]
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    auc = (ranks[:len(m)].sum() - len(m) * (len(m) + 1) / 2) / (len(m) * len(n))
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], is_member[order]
    tpr = np.cumsum(y) / len(m)
    fpr = np.cumsum(1 - y) / len(n)
    last = np.r_[s[1:] != s[:-1], True]  # thresholds only between distinct scores
    adv = float(max(0.0, (tpr[last] - fpr[last]).max()))
    return {"auc": float(auc), "advantage": adv}


def lira_offline(target_scores: np.ndarray, shadow_scores: np.ndarray,
                 shadow_in: np.ndarray) -> np.ndarray:
    """Offline LiRA statistic per user: ``(target − mean_out) / std_out``, where the mean is
    over the shadow models that did not train on the user and ``std_out`` is the pooled
    standard deviation of those OUT scores around their per-user means (Carlini et al.
    2022's global-variance variant, for few shadow models). Users with no OUT shadow get the
    population OUT mean.

    Args:
        target_scores: [U] attack scores of the users under the target model.
        shadow_scores: [K, U] the same scores under K shadow models.
        shadow_in: [K, U] whether shadow model k trained on user u.

    Example:
        Two shadow models, two users. With both users OUT of both shadows the OUT means are
        2 and 4 and the pooled deviation is 1; once user 0 is IN shadow 0, only shadow 1's
        score 3 is their OUT mean and the pooled deviation is ``sqrt(2/3)``:

        >>> from causalrec.privacy import lira_offline
        >>> shadow = [[1.0, 3.0], [3.0, 5.0]]
        >>> lira_offline([4.0, 4.0], shadow, [[False, False], [False, False]]).tolist()
        [2.0, 0.0]
        >>> lira_offline([4.0, 4.0], shadow, [[True, False], [False, False]]).round(4).tolist()
        [1.2247, 0.0]
    """
    t = np.asarray(target_scores, dtype=np.float64)
    s = np.asarray(shadow_scores, dtype=np.float64)
    out = ~np.asarray(shadow_in, dtype=bool)
    if s.shape != out.shape or s.shape[1] != len(t):
        raise ValueError(f"shadow_scores {s.shape} and shadow_in {out.shape} must both be "
                         f"[K, {len(t)}]")
    n_out = out.sum(0)
    if not out.any():
        raise ValueError("lira_offline needs shadow models that left some users out")
    mean_out = np.where(n_out > 0, (s * out).sum(0) / np.maximum(n_out, 1), s[out].mean())
    resid = (s - mean_out)[out]
    std = float(np.sqrt((resid ** 2).mean())) if len(resid) > 1 else 1.0
    return (t - mean_out) / max(std, 1e-12)


def audit_row(name: str, member_scores, non_member_scores, epsilon: float,
              delta: float) -> dict:
    """One table row: attack AUC and advantage beside the (ε, δ) advantage bound."""
    row = {"attack": name, **attack_metrics(member_scores, non_member_scores),
           "epsilon": float(epsilon), "delta": float(delta),
           "bound": advantage_bound(float(epsilon), float(delta))}
    row["within_bound"] = row["advantage"] <= row["bound"]
    return row
