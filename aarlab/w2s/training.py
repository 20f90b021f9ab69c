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
    pca_dim: int | None = None  # probe on the top-k principal components of the features (capacity control)
    early_stop: bool = False  # stop on the misfit to held-out (weak) targets (both modes)
    holdout: float = 0.2  # the fraction held out for early stopping
    view: str = "all"  # probe: the feature view ("all", a backend group, "auto": chosen on the targets)


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
                          seed=spec.seed, holdout=spec.holdout if spec.early_stop else 0.0)
        x = backend.features(list(texts))
        others = [x if p is texts else backend.features(list(p)) for p in predict]
        if spec.view != "all":
            from aarlab.w2s.methods.features import choose_view, view_columns

            groups = backend.feature_groups()
            view = spec.view
            if view == "auto":
                rest = [o for o in others if o is not x]
                pool = np.concatenate(rest) if rest else x[idx]
                view, _ = choose_view(x[idx], pool, groups, t, seed=spec.seed)
            cols = view_columns(groups, view)
            x, others = x[:, cols], [o[:, cols] for o in others]
        if spec.pca_dim is not None:
            from aarlab.w2s.methods.capacity import top_components

            x, others = top_components(x, others, spec.pca_dim, spec.seed)
        head = fit_probe(x[idx], t, cfg, loss=loss, weights=w)
        return [head.predict_proba(o) for o in others]
    if spec.pca_dim is not None or spec.view != "all":
        raise ValueError("pca_dim and view restrict the probe head: they apply in probe mode only")
    fcfg = FinetuneConfig(epochs=spec.epochs or d["epochs"], lr=spec.lr or d["lr"], seed=spec.seed,
                          weight_decay=spec.weight_decay, max_seconds=spec.max_seconds,
                          holdout=spec.holdout if spec.early_stop else 0.0)
    predictor = backend.finetune([texts[i] for i in idx], t, fcfg, loss=loss, weights=w)
    return [predictor.predict_proba(list(p)) for p in predict]


def train_and_predict(ctx: IdeaContext, texts: Sequence[str], targets: np.ndarray, spec: TrainSpec,
                      predict: list[Sequence[str]], keep: np.ndarray | None = None,
                      weights: np.ndarray | None = None) -> list[np.ndarray]:
    """The strong model of `ctx`, trained on (texts, targets)."""
    return train_and_predict_model(ctx.strong_model, texts, targets, spec, predict, keep, weights)
