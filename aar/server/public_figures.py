"""What an agent is shown for a submission: public-half accuracy with keyed noise, rounded to 2 decimals.

The noise is triangular on [-a, a] with a = 0.5 / sqrt(n_public) (the public half's sampling error at
p = 0.5; its standard deviation is a / sqrt(6), about 0.41 of that error). It is drawn from a stream
keyed by the task secret and the sha256 of the *public half's* predictions, so a resubmission gets the
same answer and changing only private-half predictions re-rolls nothing. The PGR shown is computed from
the shown accuracy, so it tells no more than the accuracy does. Never a count, never per-item data.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from aar.tasks.grade import Baselines
from aar.tasks.secret import derive

DECIMALS = 2


def noise_amplitude(n_public: int) -> float:
    return 0.5 / math.sqrt(max(n_public, 1))


def keyed_noise(secret: bytes, task: str, public_preds: np.ndarray) -> float:
    """Triangular noise in [-a, a] for these public-half predictions (a function of them alone)."""
    digest = hashlib.sha256(np.ascontiguousarray(public_preds, dtype=np.uint8).tobytes()).hexdigest()
    raw = derive("public-figure-noise", task, digest, secret=secret)
    u1 = int.from_bytes(raw[:8], "big") / 2**64
    u2 = int.from_bytes(raw[8:16], "big") / 2**64
    return (u1 + u2 - 1.0) * noise_amplitude(int(public_preds.size))


@dataclass(frozen=True)
class Shown:
    accuracy: float
    pgr: float | None


def shown(exact_accuracy: float, noise: float, base: Baselines) -> Shown:
    acc = round(min(1.0, max(0.0, exact_accuracy + noise)), DECIMALS)
    p = base.pgr(acc)
    return Shown(acc, None if p is None or not math.isfinite(p) else round(p, DECIMALS))


def round_figure(x: float | None, decimals: int = DECIMALS) -> float | None:
    """A figure as agents see it: rounded, and None for anything missing or not finite."""
    return None if x is None or not math.isfinite(x) else round(float(x), decimals)
