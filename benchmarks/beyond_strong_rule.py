"""The `beyond-strong` rule on a finished run's held-out re-checks, with and without its own-error term.

    python benchmarks/beyond_strong_rule.py RUN_DIR TASKS_DIR [--task math]

Trusted (it reads the private labels): for every subject (claim or baseline) with held-out runs, the rate
at which its runs are right on the items every strong-ceiling seed gets wrong, the reference of
`aar.tasks.grade.beyond_strong` without the term for the run's own error rate where every ceiling seed
is right (the rule before it) and with it, and which of the two would flag the subject. The flag's
limit is `aar.server.verdict`'s.
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


def limit(ref: float, n: int, runs: int) -> float:
    return ref + max(BEYOND_MIN_MARGIN, 3 * (max(ref * (1 - ref), 0.05) / (n / runs)) ** 0.5)


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
    per: dict[str, list[tuple[int, int, float, float, float]]] = {}
    for subject, packed, n, pgr, mode in rows:
        ceiling = draw.ceiling[mode or draw.meta.get("reference_mode", "probe")]
        preds = unpack_array(packed, n)
        right, hard, ref = beyond_strong(preds, labels, ceiling, draw.weak)
        # the reference depends on the run only through its own error term, which is 0 for the labels
        old = beyond_strong(labels, labels, ceiling, draw.weak)[2]
        per.setdefault(subject, []).append((right, hard, old, ref, pgr))
    head = ("subject", "PGR", "items", "rate", "old ref", "new ref")
    print(f"{head[0]:28s} " + " ".join(f"{h:>8s}" for h in head[1:]) + "  flag (old/new)")
    changed = 0
    for subject, runs in per.items():
        n = sum(r[1] for r in runs)
        if n < BEYOND_MIN_ITEMS:
            continue
        rate = sum(r[0] for r in runs) / n
        old, new = max(r[2] for r in runs), max(r[3] for r in runs)
        f_old, f_new = rate > limit(old, n, len(runs)), rate > limit(new, n, len(runs))
        changed += f_old != f_new
        pgr = float(np.mean([r[4] for r in runs if r[4] is not None]))
        print(f"{subject:28s} {pgr:8.3f} {n:8d} {rate:8.3f} {old:8.3f} {new:8.3f}  {f_old!s:5s}/{f_new!s:5s}")
    print(f"{len(per)} subjects, {changed} judged otherwise with the own-error term")


if __name__ == "__main__":
    main()
