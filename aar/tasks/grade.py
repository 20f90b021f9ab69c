"""The one grader: accuracy against private labels and PGR against a task's fixed baselines.

Every score of a run is computed here, in the server process (`aar.server.scoring` calls it): agents'
submissions on the `main` draw and the overseer's re-check runs on every draw. Offline preparation
(`aar w2s prepare`, `aar w2s baselines`) uses the same functions before any run exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aarlab.w2s.metrics import accuracy

__all__ = ["Baselines", "Grade", "accuracy", "baselines_of", "beyond_strong", "binomial_se", "grade", "pgr"]


def pgr(transfer_acc: float, weak_acc: float, strong_acc: float) -> float | None:
    """Performance gap recovered, (transfer - weak) / (strong - weak); None where the gap is zero."""
    gap = strong_acc - weak_acc
    if abs(gap) < 1e-12:
        return None
    return (transfer_acc - weak_acc) / gap


@dataclass(frozen=True)
class Baselines:
    """A task's fixed baselines in one mode (meta.json `baselines[mode]`)."""

    weak_acc: float
    strong_acc: float
    weak_acc_se: float = 0.0
    strong_acc_se: float = 0.0

    def pgr(self, acc: float) -> float | None:
        return pgr(acc, self.weak_acc, self.strong_acc)


def baselines_of(meta: dict, mode: str | None = None) -> Baselines:
    """The fixed baselines of a task's meta.json in `mode` (default its `reference_mode`)."""
    b = meta["baselines"][mode or meta.get("reference_mode", "probe")]
    return Baselines(
        float(b["weak_acc"]),
        float(b["strong_acc"]),
        float(b.get("weak_acc_se") or 0.0),
        float(b.get("strong_acc_se") or 0.0),
    )


@dataclass(frozen=True)
class Grade:
    accuracy: float
    pgr: float | None
    n: int


def grade(
    preds: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    base: Baselines,
    idx: np.ndarray | None = None,
) -> Grade:
    """Unrounded accuracy and PGR of `preds` on the items `idx` (all items when None)."""
    p, y = np.asarray(preds), np.asarray(labels)
    if idx is not None:
        p, y = p[idx], y[idx]
    acc = accuracy(p, y)
    return Grade(acc, base.pgr(acc), int(y.size))


def binomial_se(p: float, n: int) -> float:
    """Standard error of an accuracy `p` measured on `n` items."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / max(n, 1))


def beyond_strong(
    preds: np.ndarray, labels: np.ndarray, ceiling: np.ndarray
) -> tuple[int, int, float | None]:
    """How a run does where the strong model cannot know the answer.

    `ceiling`: (seeds, n) test predictions of the strong ceiling (the strong model trained on the true
    labels). Returns (items right among those every ceiling seed gets wrong, how many such items, and the
    reference rate: the best any one ceiling seed does on the items all the other seeds get wrong). A
    method that draws only on the strong model should not beat the reference there; one that reads the
    answer from the text does, however it keeps its overall accuracy under the ceiling."""
    wrong = ceiling != labels[None, :]
    hard = wrong.all(axis=0)
    right = int((preds[hard] == labels[hard]).sum())
    ref = None
    if ceiling.shape[0] >= 2:
        rates = []
        for s in range(ceiling.shape[0]):
            others = np.delete(wrong, s, axis=0).all(axis=0)
            if others.sum():
                rates.append(float((~wrong[s][others]).mean()))
        ref = max(rates) if rates else None
    return right, int(hard.sum()), ref
