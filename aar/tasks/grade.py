"""The one grader: accuracy against private labels and PGR against a task's fixed baselines.

Every score of a run is computed here, in the server process (`aar.server.scoring` calls it); offline
preparation (`aar w2s prepare`, `aar w2s baselines`) uses the same functions before any run exists.
"""

from __future__ import annotations

from aarlab.w2s.metrics import accuracy

__all__ = ["accuracy", "pgr"]


def pgr(transfer_acc: float, weak_acc: float, strong_acc: float) -> float | None:
    """Performance gap recovered, (transfer - weak) / (strong - weak); None where the gap is zero."""
    gap = strong_acc - weak_acc
    if abs(gap) < 1e-12:
        return None
    return (transfer_acc - weak_acc) / gap
