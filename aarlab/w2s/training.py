"""Train the strong model on given targets in probe or finetune mode and predict (shared by recipes,
the ceiling and the weak model)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aarlab.w2s.backends.base import FinetuneConfig
from aarlab.w2s.idea import IdeaContext
from aarlab.w2s.losses import make_loss
from aarlab.w2s.probe import ProbeConfig, fit_probe

DEFAULTS = {
    "probe": {"lr": 0.05, "epochs": 300, "l2": 1e-3},
    "finetune": {"lr": 1e-4, "epochs": 2},
}


@dataclass
class TrainSpec:
    mode: str = "probe"
    loss: str = "ce"
    aux_alpha: float = 0.5
    lr: float | None = None
    epochs: int | None = None
    weight_decay: float = 0.0
    l2: float | None = None
    seed: int = 0
    max_seconds: float | None = None


def train_and_predict_model(model: str, texts: Sequence[str], targets: np.ndarray, spec: TrainSpec,
                            predict: list[Sequence[str]], keep: np.ndarray | None = None,
                            weights: np.ndarray | None = None) -> list[np.ndarray]:
    """Train `model` (a backend spec) on (texts, targets)[keep]; return p(label=1) for each of `predict`."""
    from aarlab.w2s.models import get_backend

    if spec.mode not in DEFAULTS:
        raise ValueError(f"unknown mode {spec.mode!r}")
    d = DEFAULTS[spec.mode]
    backend = get_backend(model)
    keep = np.ones(len(texts), dtype=bool) if keep is None else keep
    idx = np.flatnonzero(keep)
    t = np.asarray(targets, dtype=np.float64)[idx]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)[idx]
    loss = make_loss(spec.loss, spec.aux_alpha)
    if spec.mode == "probe":
        cfg = ProbeConfig(lr=spec.lr or d["lr"], epochs=spec.epochs or d["epochs"],
                          l2=d["l2"] if spec.l2 is None else spec.l2, weight_decay=spec.weight_decay,
                          seed=spec.seed)
        x = backend.features(list(texts))
        head = fit_probe(x[idx], t, cfg, loss=loss, weights=w)
        return [head.predict_proba(x if p is texts else backend.features(list(p))) for p in predict]
    fcfg = FinetuneConfig(epochs=spec.epochs or d["epochs"], lr=spec.lr or d["lr"], seed=spec.seed,
                          weight_decay=spec.weight_decay, max_seconds=spec.max_seconds)
    predictor = backend.finetune([texts[i] for i in idx], t, fcfg, loss=loss, weights=w)
    return [predictor.predict_proba(list(p)) for p in predict]


def train_and_predict(ctx: IdeaContext, texts: Sequence[str], targets: np.ndarray, spec: TrainSpec,
                      predict: list[Sequence[str]], keep: np.ndarray | None = None,
                      weights: np.ndarray | None = None) -> list[np.ndarray]:
    """The strong model of `ctx`, trained on (texts, targets)."""
    return train_and_predict_model(ctx.strong_model, texts, targets, spec, predict, keep, weights)
