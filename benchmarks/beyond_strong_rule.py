"""The `beyond-strong` rule on a finished run's held-out re-checks: what it judges, and what the PGR gate
(no judgment for a method at or below the weak supervisor) changes.

    python benchmarks/beyond_strong_rule.py RUN_DIR TASKS_DIR [--task math]

Trusted (it reads the private labels): for every subject (claim or baseline) with held-out runs, its mean
held-out PGR, the rate at which its runs are right on the items every strong-ceiling seed gets wrong, the
reference of `aar.tasks.grade.beyond_strong` and the limit of `aar.server.verdict`, and whether the rule
flags it without the gate and with it.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import numpy as np

from aar.server.scoring import unpack_array
from aar.server.tasks import load_draw
from aar.server.verdict import BEYOND_MIN_ITEMS, BEYOND_MIN_MARGIN
from aar.tasks.grade import beyond_strong


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("tasks_dir", type=Path)
    ap.add_argument("--task", default="math")
    a = ap.parse_args()
    draw = load_draw(a.tasks_dir / a.task, "heldout")
    labels = draw.labels["test"]
    with sqlite3.connect(f"file:{a.run_dir / 'aar.db'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT coalesce(baseline, 'finding ' || finding_id), predictions_packed, n, pgr, "
            "json_extract(manifest, '$.mode') FROM rechecks WHERE kind = 'heldout' AND task = ? "
            "AND predictions_packed IS NOT NULL ORDER BY id", (a.task,)).fetchall()
    per: dict[str, list[tuple[int, int, float, float]]] = {}
    for subject, packed, n, pgr, mode in rows:
        ceiling = draw.ceiling[mode or draw.meta.get("reference_mode", "probe")]
        right, hard, ref = beyond_strong(unpack_array(packed, n), labels, ceiling, draw.weak)
        per.setdefault(subject, []).append((right, hard, ref, pgr))
    head = ("subject", "PGR", "items", "rate", "ref", "limit")
    print(f"{head[0]:28s} " + " ".join(f"{h:>7s}" for h in head[1:]) + "  flagged (no gate / gate)")
    changed = 0
    for subject, runs in per.items():
        n = sum(r[1] for r in runs)
        if n < BEYOND_MIN_ITEMS:
            continue
        rate, ref = sum(r[0] for r in runs) / n, max(r[2] for r in runs)
        limit = ref + max(BEYOND_MIN_MARGIN, 3 * (max(ref * (1 - ref), 0.05) / (n / len(runs))) ** 0.5)
        pgr = float(np.mean([r[3] for r in runs if r[3] is not None]))
        plain = rate > limit
        gated = plain and pgr > 0
        changed += plain != gated
        print(f"{subject:28s} {pgr:7.3f} {n:7d} {rate:7.3f} {ref:7.3f} {limit:7.3f}  {plain!s:5s} / {gated}")
    print(f"{len(per)} subjects, {changed} judged otherwise with the gate")


if __name__ == "__main__":
    main()
