"""Scoring: validate a prediction vector, then grade it (`aar.tasks.grade`) on a task draw.

`agent_score` is what an agent's evaluation records: the shown public figures (noised, rounded; see
`public_figures.py`) and the exact private-half figures (admin only). `whole_test` scores a re-check run
on the whole test split of any draw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from aar.server.public_figures import keyed_noise, shown
from aar.server.tasks import TaskDraw
from aar.tasks.grade import Grade, grade


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


@dataclass(frozen=True)
class AgentScore:
    accuracy: float  # shown: public half, noised, rounded
    pgr: float | None
    exact_accuracy: float  # public half, exact (never shown to agents)
    private_accuracy: float | None
    private_pgr: float | None


def agent_score(draw: TaskDraw, preds: np.ndarray, secret: bytes) -> AgentScore:
    """An agent's submission on `test` of the main draw: public half shown, private half stored."""
    labels = draw.labels["test"]
    pub = grade(preds, labels, draw.base, draw.public_idx) if draw.public_idx.size else None
    prv = grade(preds, labels, draw.base, draw.private_idx) if draw.private_idx.size else None
    exact = pub.accuracy if pub else 0.0
    fig = shown(exact, keyed_noise(secret, draw.task, preds[draw.public_idx]), draw.base)
    return AgentScore(
        accuracy=fig.accuracy,
        pgr=fig.pgr,
        exact_accuracy=exact,
        private_accuracy=prv.accuracy if prv else None,
        private_pgr=prv.pgr if prv else None,
    )


def whole_split(draw: TaskDraw, split: str, preds: np.ndarray) -> Grade:
    """Exact accuracy and PGR over a whole split (trusted callers: the admin, re-checks)."""
    return grade(preds, draw.labels[split], draw.base)


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).mean()) if a.size and a.shape == b.shape else 0.0


def digest(preds: np.ndarray) -> str:
    """sha256 of the 0/1 byte vector (what a run manifest's `predictions_sha256` holds)."""
    return hashlib.sha256(np.ascontiguousarray(preds, dtype=np.uint8).tobytes()).hexdigest()


def pack(preds: np.ndarray) -> tuple[bytes, str]:
    """Packed bits for storage and the sha256 of the 0/1 byte vector."""
    return np.packbits(preds).tobytes(), digest(preds)


def unpack_array(packed: bytes, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=n)


def unpack(packed: bytes, n: int) -> list[int]:
    return unpack_array(packed, n).astype(int).tolist()
