"""The weak supervisor: the weak model with a probe trained on `train_label` (true labels).

Per seed it trains on a seeded 80% subsample of `train_label`, so seeds differ. Its soft labels on
`train_unlabel` are the weak artifacts every idea receives (written by `aar w2s prepare`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aarlab.w2s.data import DataDir
from aarlab.w2s.training import TrainSpec, train_and_predict_model

WEAK_FRACTION = 0.8


def weak_predictions(data_dir: Path, weak_model: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """p(label=1) of the weak supervisor on (train_unlabel, test)."""
    data = DataDir(Path(data_dir))
    texts = data.texts("train_label")
    labels = data.train_labels().astype(np.float64)
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(texts), dtype=bool)
    keep[rng.permutation(len(texts))[: max(2, int(WEAK_FRACTION * len(texts)))]] = True
    p_u, p_t = train_and_predict_model(weak_model, texts, labels, TrainSpec(mode="probe", seed=seed),
                                       predict=[data.texts("train_unlabel"), data.texts("test")], keep=keep)
    return p_u, p_t
