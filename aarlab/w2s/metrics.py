"""Accuracy and mean ± standard error (PGR is the grader's: `aar.tasks.grade`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def accuracy(preds: Sequence[int] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float:
    p, y = np.asarray(preds), np.asarray(labels)
    if p.shape != y.shape:
        raise ValueError(f"predictions have shape {p.shape}, labels {y.shape}")
    if p.size == 0:
        raise ValueError("no predictions")
    return float((p == y).mean())


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (0 for a single value)."""
    v = [float(x) for x in values]
    if not v:
        raise ValueError("no values")
    m = sum(v) / len(v)
    if len(v) < 2:
        return m, 0.0
    var = sum((x - m) ** 2 for x in v) / (len(v) - 1)
    return m, math.sqrt(var / len(v))
