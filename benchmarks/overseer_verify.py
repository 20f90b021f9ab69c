"""Time the overseer's re-runs: one sandboxed idea run, and a full verification of one baseline idea.

    python benchmarks/overseer_verify.py [--size tiny|full] [--sandbox bwrap|none] [--idea vanilla_w2s]

Prints seconds per re-run by label and the verified PGR it measured (tasks must be prepared:
`aar w2s prepare --size SIZE`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from aar.compute import ComputeQueue
from aar.overseer.rerun import Runner
from aar.overseer.verify import Verification, VerifyConfig, measure
from aar.overseer.worker import BASELINES_DIR, all_tasks
from aar.paths import tasks_dir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--sandbox", default="bwrap")
    ap.add_argument("--idea", default="vanilla_w2s")
    ap.add_argument("--task", default="math")
    ns = ap.parse_args()
    root = tasks_dir(ns.size)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(queue=ComputeQueue(Path(tmp) / "q", 1), sandbox=ns.sandbox, on_run=runs.append)
        v = Verification()
        t0 = time.time()
        others = [t for t in all_tasks(root) if t != ns.task]
        measure(runner, BASELINES_DIR / ns.idea, root, ns.task, others, Path(tmp) / "work", VerifyConfig(), v)
        total = time.time() - t0
    for r in runs:
        print(f"re-run {r['label']:<16} {r['seconds']:7.2f} s  exit {r['returncode']}")
    print(f"verification of {ns.idea} on {ns.task} ({ns.size}): {len(runs)} re-runs, {total:.1f} s total")
    print(
        f"verified PGR {v.verified_pgr} ± {v.verified_pgr_se}; shuffled-weak PGR {v.ablation_pgr}; "
        f"generalization {v.generalization}; flags {v.flags}"
    )


if __name__ == "__main__":
    main()
