"""Time the overseer's re-runs: one sandboxed idea run, and a full verification of one baseline idea.

    python benchmarks/overseer_verify.py [--size tiny|full] [--sandbox bwrap|none] [--idea vanilla_w2s]

Prints seconds per re-run by label and the verification the server judged from them (tasks must be
prepared: `aar w2s prepare --size SIZE`). A throwaway `aar serve` scores the runs (the overseer holds no
labels).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aar.compute import ComputeQueue
from aar.overseer.api import OverseerApi
from aar.overseer.rerun import Runner
from aar.overseer.verify import Plan, VerifyConfig, full_check, screen
from aar.overseer.worker import all_tasks, blank_model_for
from aar.paths import tasks_dir
from aarlab.w2s.baselines import BASELINES_DIR


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--no-view-cache", action="store_true", help="re-runs compute their own features")
    ap.add_argument("--sandbox", default="bwrap")
    ap.add_argument("--idea", default="vanilla_w2s")
    ap.add_argument("--task", default="math")
    ns = ap.parse_args()
    root = tasks_dir(ns.size)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        runner = Runner(
            queue=ComputeQueue(Path(tmp) / "q", 1), sandbox=ns.sandbox, on_run=runs.append,
            view_cache=not ns.no_view_cache,
        )
        run_dir = Path(tmp) / "run"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aar.server",
                "--run-dir",
                str(run_dir),
                "--tasks-dir",
                str(root),
                "--port",
                "0",
                "--no-uds",
            ],
            stderr=subprocess.DEVNULL,
        )
        try:
            while not (run_dir / "server.json").exists():
                time.sleep(0.1)
            time.sleep(0.5)
            url = json.loads((run_dir / "server.json").read_text())["url"]
            api = OverseerApi(url=url, admin_token=(run_dir / "admin_token").read_text().strip())
            subject = {"baseline": ns.idea, "task": ns.task}
            t0 = time.time()
            others = [t for t in all_tasks(root) if t != ns.task]
            plan = Plan(api, runner, subject, BASELINES_DIR / ns.idea, root, ns.task, Path(tmp) / "work",
                        blank_model=blank_model_for(root))
            screen(plan, VerifyConfig())
            full_check(plan, VerifyConfig(), others)
            v = api.close_verification(subject)
            total = time.time() - t0
            api.close()
        finally:
            server.terminate()
            server.wait(10)
    for r in runs:
        print(f"re-run {r['label']:<16} {r['seconds']:7.2f} s  exit {r['returncode']}")
    print(f"verification of {ns.idea} on {ns.task} ({ns.size}): {len(runs)} re-runs, {total:.1f} s total")
    print(
        f"{v['status']}: verified PGR {v['verified_pgr']} ± {v['verified_pgr_se']}; shuffled-weak PGR "
        f"{v['ablation_pgr']}; generalization {v['generalization']}; flags {v['flags']}; labels {v['labels']}"
    )


if __name__ == "__main__":
    main()
