"""Losses on (logits (n, 2), soft targets p(label=1) (n,), progress in [0, 1]), optional per-example weights.

Every returned loss follows `aarlab.w2s.backends.base.LossFn` and also accepts `weights=` (a tensor (n,))
as a keyword; backends that do not pass weights get the unweighted mean.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LOSSES = ("ce", "aux_conf", "bootstrap", "gce")
WeightedLoss = Callable[..., torch.Tensor]


def _two_class(targets: torch.Tensor) -> torch.Tensor:
    t = targets.float().clamp(0, 1)
    return torch.stack([1 - t, t], dim=1)


def _reduce(per_example: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    if weights is None:
        return per_example.mean()
    w = weights.to(per_example.dtype)
    return (per_example * w).sum() / w.sum().clamp_min(1e-8)


def soft_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-example cross-entropy against soft targets."""
    return -(_two_class(targets) * F.log_softmax(logits, dim=1)).sum(dim=1)


def ce_loss(logits: torch.Tensor, targets: torch.Tensor, progress: float = 0.0,
            weights: torch.Tensor | None = None) -> torch.Tensor:
    return _reduce(soft_ce(logits, targets), weights)


def make_aux_conf(alpha: float = 0.5, warmup: float = 0.2) -> WeightedLoss:
    """Auxiliary confidence loss (Burns et al. 2023): mix the weak targets with the model's own
    hardened predictions (threshold chosen so the hardened labels keep the weak targets' class
    balance), the mixing weight warming up linearly from 0 to `alpha` over the first `warmup`
    of training."""

    def loss(logits: torch.Tensor, targets: torch.Tensor, progress: float = 0.0,
             weights: torch.Tensor | None = None) -> torch.Tensor:
        a = alpha * min(1.0, progress / warmup) if warmup > 0 else alpha
        p = F.softmax(logits.detach(), dim=1)[:, 1]
        prior = float(targets.float().mean())
        thresh = torch.quantile(p, min(max(1 - prior, 0.0), 1.0))
        hard = (p > thresh).float()
        per = (1 - a) * soft_ce(logits, targets) + a * soft_ce(logits, hard)
        return _reduce(per, weights)

    return loss


def make_bootstrap(alpha: float = 0.5) -> WeightedLoss:
    """Soft bootstrapping (Reed et al. 2015): target = (1-alpha)*weak + alpha*own prediction."""

    def loss(logits: torch.Tensor, targets: torch.Tensor, progress: float = 0.0,
             weights: torch.Tensor | None = None) -> torch.Tensor:
        own = F.softmax(logits.detach(), dim=1)[:, 1]
        mixed = (1 - alpha) * targets.float() + alpha * own
        return _reduce(soft_ce(logits, mixed), weights)

    return loss


def make_gce(q: float = 0.7) -> WeightedLoss:
    """Generalised cross-entropy (Zhang & Sabuncu 2018), robust to label noise, on soft targets."""

    def loss(logits: torch.Tensor, targets: torch.Tensor, progress: float = 0.0,
             weights: torch.Tensor | None = None) -> torch.Tensor:
        p = F.softmax(logits, dim=1).clamp_min(1e-6)
        per = (_two_class(targets) * (1 - p**q) / q).sum(dim=1)
        return _reduce(per, weights)

    return loss


def make_loss(name: str, alpha: float = 0.5) -> WeightedLoss:
    if name == "ce":
        return ce_loss
    if name == "aux_conf":
        return make_aux_conf(alpha)
    if name == "bootstrap":
        return make_bootstrap(alpha)
    if name == "gce":
        return make_gce()
    raise ValueError(f"unknown loss {name!r}; choose one of {LOSSES}")
