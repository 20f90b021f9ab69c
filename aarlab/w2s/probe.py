"""Probe mode: a linear head on frozen features, trained full-batch on soft targets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from aarlab.w2s.losses import WeightedLoss, ce_loss


@dataclass
class ProbeConfig:
    lr: float = 0.05
    epochs: int = 300  # full-batch steps
    l2: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    # early stopping: hold out this fraction of the rows (0: off) and keep the weights with the lowest
    # loss on their targets, evaluated every `eval_every` steps, stopping after `patience` evaluations
    # without improvement
    holdout: float = 0.0
    eval_every: int = 5
    patience: int = 10


class ProbeHead:
    def __init__(self, mean: np.ndarray, std: np.ndarray, linear: torch.nn.Linear) -> None:
        self.mean, self.std, self.linear = mean, std, linear
        self.steps: int | None = None  # training steps of the kept weights (early stopping)

    def logits(self, x: np.ndarray) -> torch.Tensor:
        return self.logits_t(torch.as_tensor(x.astype(np.float32)))

    def logits_t(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of a feature tensor (keeps the autograd graph, for fine-tuning through features)."""
        mean = torch.as_tensor(self.mean, dtype=torch.float32)
        std = torch.as_tensor(self.std, dtype=torch.float32)
        return self.linear((x - mean) / std)

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return torch.softmax(self.logits(x), dim=1)[:, 1].numpy().astype(np.float64)


def fit_probe(x: np.ndarray, targets: np.ndarray, cfg: ProbeConfig, loss: WeightedLoss | None = None,
              weights: np.ndarray | None = None) -> ProbeHead:
    torch.manual_seed(cfg.seed)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    linear = torch.nn.Linear(x.shape[1], 2)
    torch.nn.init.normal_(linear.weight, std=0.01)
    torch.nn.init.zeros_(linear.bias)
    head = ProbeHead(mean, std, linear)
    z = torch.as_tensor(((x - mean) / std).astype(np.float32))
    t = torch.as_tensor(np.asarray(targets, dtype=np.float32))
    w = None if weights is None else torch.as_tensor(np.asarray(weights, dtype=np.float32))
    held = None
    if cfg.holdout > 0 and len(x) >= 4:
        from aarlab.w2s.methods.capacity import holdout_mask

        mask = torch.as_tensor(holdout_mask(len(x), cfg.holdout, cfg.seed))
        held = (z[mask], t[mask], None if w is None else w[mask])
        z, t, w = z[~mask], t[~mask], None if w is None else w[~mask]
    loss_fn = loss or ce_loss
    opt = torch.optim.Adam(linear.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best, best_state, since = float("inf"), None, 0
    for step in range(cfg.epochs):
        logits = linear(z)
        value = loss_fn(logits, t, step / max(1, cfg.epochs), weights=w)
        value = value + cfg.l2 * (linear.weight**2).sum()
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        if held is not None and ((step + 1) % max(1, cfg.eval_every) == 0 or step + 1 == cfg.epochs):
            with torch.no_grad():
                misfit = float(ce_loss(linear(held[0]), held[1], weights=held[2]))
            if misfit < best - 1e-6:
                best, since = misfit, 0
                best_state = ({k: v.clone() for k, v in linear.state_dict().items()}, step + 1)
            else:
                since += 1
                if since >= cfg.patience:
                    break
    if best_state is not None:
        linear.load_state_dict(best_state[0])
        head.steps = best_state[1]
    return head
