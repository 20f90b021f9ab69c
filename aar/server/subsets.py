"""Test metrics per `subset` (imported tasks), as the reference reports them (in- vs out-of-distribution).

Admin and report only: computed at close from the stored predictions of a subject's held-out re-checks and
kept in the verification's `details["subsets"]`, which agents never see. Accuracy per subset, and PGR
against the subset's own fixed baselines (`aar.tasks.grade.by_subset`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aar.server.models import Recheck
from aar.server.scoring import unpack_array
from aar.server.tasks import TaskRegistry
from aar.tasks.grade import Grade, by_subset


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def heldout_subsets(tasks: TaskRegistry, rechecks: Sequence[Recheck]) -> dict[str, dict] | None:
    """{subset: {"accuracy", "pgr", "n", "runs"}} (means over the successful held-out runs), or None when
    the draw has no subsets or no held-out run scored."""
    runs = [
        r for r in rechecks if r.kind == "heldout" and r.error is None and r.predictions_packed is not None
    ]
    if not runs:
        return None
    task = tasks.get(runs[0].task)
    draw = task.draw(runs[0].draw) if task is not None else None
    if draw is None or draw.subsets is None:
        return None
    per: dict[str, list[Grade]] = {}
    for r in runs:
        preds = unpack_array(r.predictions_packed, int(r.n or draw.n_test))
        for name, g in by_subset(preds, draw.labels["test"], draw.subsets, draw.subset_base).items():
            per.setdefault(name, []).append(g)
    out = {}
    for name, grades in sorted(per.items()):
        pgrs = [g.pgr for g in grades if g.pgr is not None]
        out[name] = {
            "accuracy": _mean([g.accuracy for g in grades]),
            "pgr": _mean(pgrs) if len(pgrs) == len(grades) else None,
            "n": grades[0].n,
            "runs": len(grades),
        }
    return out
