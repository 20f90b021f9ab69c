"""Scoring: validate a prediction vector, then accuracy and PGR against the task's fixed baselines."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from aar.server.tasks import TaskData
from aar.tasks.grade import pgr


class PredictionError(ValueError):
    """The predictions are malformed (the message says how)."""


def parse_predictions(raw: object, expected_len: int) -> np.ndarray:
    if not isinstance(raw, list):
        raise PredictionError("predictions must be a JSON list of 0/1 integers")
    if len(raw) != expected_len:
        raise PredictionError(f"predictions has length {len(raw)}; this split needs {expected_len}")
    if expected_len and set(map(type, raw)) == {int}:  # fast path: all plain ints (bools excluded)
        try:
            arr = np.fromiter(raw, dtype=np.int64, count=expected_len)
        except OverflowError:
            arr = None
        if arr is not None and bool(((arr == 0) | (arr == 1)).all()):
            return arr.astype(np.uint8)
    for i, x in enumerate(raw):  # slow path: name the first bad element
        if type(x) is not int or (x != 0 and x != 1):
            raise PredictionError(f"predictions[{i}] = {x!r}: every prediction must be the integer 0 or 1")
    return np.fromiter(raw, dtype=np.uint8, count=expected_len)


def _r(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 3)


@dataclass(frozen=True)
class Score:
    accuracy: float
    pgr: float | None
    private_accuracy: float | None
    private_pgr: float | None


def score(task: TaskData, split: str, preds: np.ndarray) -> Score:
    labels = task.labels[split]
    correct = preds == labels
    if split != "test":
        acc = float(correct.mean())
        return Score(_r(acc), _r(pgr(acc, task.weak_acc, task.strong_acc)), None, None)  # type: ignore[arg-type]
    pub = float(correct[task.public_idx].mean()) if task.public_idx.size else float("nan")
    prv = float(correct[task.private_idx].mean()) if task.private_idx.size else float("nan")
    return Score(
        accuracy=_r(pub),  # type: ignore[arg-type]
        pgr=_r(pgr(pub, task.weak_acc, task.strong_acc)),
        private_accuracy=_r(prv),
        private_pgr=_r(pgr(prv, task.weak_acc, task.strong_acc)),
    )


def pack(preds: np.ndarray) -> tuple[bytes, str]:
    """Packed bits for storage and the sha256 of the 0/1 byte vector."""
    return np.packbits(preds).tobytes(), hashlib.sha256(preds.tobytes()).hexdigest()


def unpack(packed: bytes, n: int) -> list[int]:
    return np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=n).astype(int).tolist()
