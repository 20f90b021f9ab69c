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

from aar.server.scoring import unpack_array
from aar.server.tasks import load_draw
from aar.server.verdict import Judgment, Run, _beyond_strong
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
            "SELECT coalesce(baseline, 'finding ' || finding_id), predictions_packed, n, accuracy, pgr, "
            "json_extract(manifest, '$.mode') FROM rechecks WHERE kind = 'heldout' AND task = ? "
            "AND predictions_packed IS NOT NULL ORDER BY id", (a.task,)).fetchall()
    per: dict[str, list[Run]] = {}
    for subject, packed, n, acc, pgr, mode in rows:
        ceiling = draw.ceiling[mode or draw.meta.get("reference_mode", "probe")]
        right, hard, ref = beyond_strong(unpack_array(packed, n), labels, ceiling, draw.weak)
        run = Run("heldout", a.task, "heldout", 0, accuracy=acc, pgr=pgr, hard_right=right, hard_n=hard,
                  hard_reference=ref)
        per.setdefault(subject, []).append(run)
    head = ("subject", "PGR", "items", "rate", "ref", "limit")
    print(f"{head[0]:28s} " + " ".join(f"{h:>7s}" for h in head[1:]) + "  flagged (no gate / gate)")
    changed = 0
    for subject, runs in per.items():
        j = Judgment()
        _beyond_strong(runs, j)  # the server's own rule
        d = j.details.get("beyond_strong")
        if d is None:
            continue  # too few such items to judge
        plain, gated = d["rate"] > d["limit"], "beyond-strong" in j.flags
        changed += plain != gated
        print(f"{subject:28s} {d['pgr']:7.3f} {d['items']:7d} {d['rate']:7.3f} {d['reference']:7.3f} "
              f"{d['limit']:7.3f}  {plain!s:5s} / {gated}")
    print(f"{len(per)} subjects, {changed} judged otherwise with the gate")


if __name__ == "__main__":
    main()
