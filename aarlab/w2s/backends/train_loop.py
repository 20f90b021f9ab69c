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
                     device: torch.device | str = "cpu",
                     keep_best: list[torch.nn.Parameter] | None = None) -> None:
    """`cfg.epochs` shuffled passes over `texts` (stopping early after `cfg.max_seconds`).

    With `cfg.holdout` > 0 that fraction of the texts is held out, the loss on its targets (plain
    cross-entropy: the misfit to held-out labels) is measured `cfg.evals_per_epoch` times per epoch,
    training stops after `cfg.patience` measurements without improvement, and the parameters in
    `keep_best` (default `params`) are restored to their values at the lowest held-out misfit."""
    from aarlab.w2s.losses import ce_loss

    loss_fn = loss or ce_loss
    targets = np.asarray(targets, dtype=np.float32)
    held: tuple[list[str], torch.Tensor] | None = None
    if cfg.holdout > 0 and len(texts) >= 4:
        from aarlab.w2s.methods.capacity import holdout_mask

        mask = holdout_mask(len(texts), cfg.holdout, cfg.seed)
        held = ([texts[i] for i in np.flatnonzero(mask)], torch.as_tensor(targets[mask], device=device))
        texts = [texts[i] for i in np.flatnonzero(~mask)]
        targets = targets[~mask]
        weights = None if weights is None else np.asarray(weights)[~mask]
    t = torch.as_tensor(targets, device=device)
    w = None if weights is None else torch.as_tensor(np.asarray(weights, dtype=np.float32), device=device)
    n = len(texts)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = max(1, (n + cfg.batch_size - 1) // cfg.batch_size)
    eval_every = max(1, steps_per_epoch // max(1, cfg.evals_per_epoch))
    total, step, t0 = steps_per_epoch * cfg.epochs, 0, time.time()
    snapshot = keep_best if keep_best is not None else params
    best, best_state, since = float("inf"), None, 0
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
            if held is not None and (step % eval_every == 0 or step == total):
                misfit = _misfit(logits_of, held, cfg.batch_size * 8)
                if misfit < best - 1e-6:
                    best, since = misfit, 0
                    best_state = [p.detach().clone() for p in snapshot]
                else:
                    since += 1
            stop = cfg.max_seconds is not None and time.time() - t0 > cfg.max_seconds
            if stop or (held is not None and since >= cfg.patience):
                break
        else:
            continue
        break
    if best_state is not None:
        with torch.no_grad():
            for p, v in zip(snapshot, best_state, strict=True):
                p.copy_(v)


@torch.no_grad()
def _misfit(logits_of: Callable[[list[str]], torch.Tensor], held: tuple[list[str], torch.Tensor],
            batch: int) -> float:
    from aarlab.w2s.losses import ce_loss

    texts, t = held
    total = 0.0
    for i in range(0, len(texts), batch):
        chunk = texts[i : i + batch]
        total += float(ce_loss(logits_of(chunk), t[i : i + batch])) * len(chunk)
    return total / max(1, len(texts))
