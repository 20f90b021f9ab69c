"""Filter, then relabel what was dropped (after Shi et al. 2025): train a first-stage student on the
weak labels it trusts, let it label the items the filter dropped, and train again on everything.

The first stage never sees the dropped items' weak labels, so where those were wrong (the filter
drops the least trusted), the student's own generalization from the kept items replaces them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# (targets, keep mask) -> p(label=1) of every item, from a student trained on targets[keep]
FitPredict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def relabel_dropped(
    targets: np.ndarray, keep: np.ndarray, fit_predict: FitPredict, hard: bool = False
) -> np.ndarray:
    """Targets where the kept items keep theirs and the dropped ones get the first-stage student's
    prediction (hardened at 0.5 with `hard`)."""
    targets = np.asarray(targets, dtype=np.float64)
    if keep.all():
        return targets.copy()
    p = fit_predict(targets, keep)
    new = targets.copy()
    new[~keep] = (p[~keep] > 0.5).astype(np.float64) if hard else p[~keep]
    return new
