"""The fine-tuning loop shared by the backends: minibatches of texts, a label-logit function, a loss."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from aarlab.w2s.backends.base import FinetuneConfig, LossFn


def train_classifier(logits_of: Callable[[list[str]], torch.Tensor], params: list[torch.nn.Parameter],
                     opt: torch.optim.Optimizer, texts: Sequence[str], targets: np.ndarray,
                     cfg: FinetuneConfig, loss: LossFn | None = None, weights: np.ndarray | None = None,
                     device: torch.device | str = "cpu") -> None:
    """`cfg.epochs` shuffled passes over `texts` (stopping early after `cfg.max_seconds`)."""
    from aarlab.w2s.losses import ce_loss

    loss_fn = loss or ce_loss
    t = torch.as_tensor(np.asarray(targets, dtype=np.float32), device=device)
    w = None if weights is None else torch.as_tensor(np.asarray(weights, dtype=np.float32), device=device)
    n = len(texts)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = max(1, (n + cfg.batch_size - 1) // cfg.batch_size)
    total, step, t0 = steps_per_epoch * cfg.epochs, 0, time.time()
    for _ in range(cfg.epochs):
        order = torch.randperm(n, generator=gen)
        for b in range(steps_per_epoch):
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            if len(idx) == 0:
                continue
            logits = logits_of([texts[i] for i in idx.tolist()])
            idx = idx.to(device)
            progress = step / max(1, total)
            if w is not None:
                value = loss_fn(logits, t[idx], progress, weights=w[idx])
            else:
                value = loss_fn(logits, t[idx], progress)
            opt.zero_grad(set_to_none=True)
            value.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            if cfg.max_seconds is not None and time.time() - t0 > cfg.max_seconds:
                return
