"""`python -m aar.overseer --run-dir D [--url U | --uds S] --tasks-dir T --sandbox bwrap|none ...`"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path

from aar.compute import ComputeQueue, devices_from_env
from aar.overseer.api import OverseerApi
from aar.overseer.rerun import Runner
from aar.overseer.verify import VerifyConfig
from aar.overseer.worker import Overseer, OverseerConfig


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m aar.overseer", description=__doc__)
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--url", default=None, help="server URL (default: the run's Unix socket)")
    p.add_argument("--uds", default=None)
    p.add_argument("--tasks-dir", type=Path, required=True)
    p.add_argument("--sandbox", default="bwrap", choices=["bwrap", "docker", "none"])
    p.add_argument("--concurrency", type=int, default=1, help="findings verified at once")
    p.add_argument("--slots", type=int, default=2, help="compute-queue slots (shared with the run)")
    p.add_argument("--threads", type=int, default=None, help="threads per re-run (default cores // slots)")
    p.add_argument(
        "--reserve",
        type=int,
        default=None,
        help="slots whose next free turn goes to the overseer's re-runs before any agent's (default: half)",
    )
    p.add_argument("--queue-dir", type=Path, default=None, help="compute queue root (default RUN_DIR/queue)")
    p.add_argument("--seeds", default="", help="held-out seeds (default: the task's, at most 3)")
    p.add_argument("--no-generalization", action="store_true")
    p.add_argument("--no-screen", action="store_true", help="fully check every claim (no screening)")
    p.add_argument(
        "--screen-margin",
        type=float,
        default=0.05,
        help="a claim whose first held-out PGR is within this of the best verified one is fully checked",
    )
    p.add_argument(
        "--public-margin",
        type=float,
        default=0.15,
        help="screen out, unrun, a claim whose public PGR is this far below the best verified one",
    )
    p.add_argument("--baselines", default="", help="comma-separated baseline ideas to verify the same way")
    p.add_argument("--baseline-task", default="math")
    p.add_argument(
        "--baseline-runs",
        type=Path,
        default=None,
        help="keep the baselines' re-runs here and reuse them in later runs (same code, data and models)",
    )
    p.add_argument("--poll", type=float, default=2.0)
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per re-run")
    p.add_argument("--until-idle", action="store_true", help="exit once nothing is left to verify")
    return p.parse_args(argv)


def build(ns: argparse.Namespace) -> Overseer:
    run_dir = ns.run_dir.resolve()
    token = os.environ.get("AAR_ADMIN_TOKEN") or (run_dir / "admin_token").read_text().strip()
    url = ns.url or (None if ns.uds else os.environ.get("AAR_SERVER_URL"))
    uds = ns.uds or os.environ.get("AAR_SERVER_UDS") or (None if url else str(run_dir / "server.sock"))
    api = OverseerApi(url=None if uds else url, uds=uds, admin_token=token)
    devices = devices_from_env()
    # half the slots by default; none of a one-slot queue (it would be all of it whenever checks wait)
    reserve = ns.reserve if ns.reserve is not None else len(devices or range(ns.slots)) // 2
    queue = ComputeQueue(ns.queue_dir or run_dir / "queue", ns.slots, threads=ns.threads, devices=devices,
                         reserve=reserve)
    tasks_root = ns.tasks_dir.resolve()
    runner = Runner(queue=queue, sandbox=ns.sandbox, timeout=ns.timeout)
    if os.environ.get("AAR_EXECUTOR") == "ray":  # re-runs as Ray tasks, placed by Ray's scheduler
        from aar.cluster.experiment import RayRuns

        runner.remote = RayRuns(
            os.environ["AAR_RAY_ADDRESS"],
            os.environ["AAR_RAY_RUN"],
            sandbox=ns.sandbox,
            threads=ns.threads or 1,
            gpus=float(os.environ.get("AAR_RAY_GPUS", "0")),
            timeout=ns.timeout,
        )
    cfg = OverseerConfig(
        run_dir=run_dir,
        tasks_root=tasks_root,
        concurrency=ns.concurrency,
        poll_interval=ns.poll,
        baselines=[b for b in ns.baselines.split(",") if b],
        baseline_task=ns.baseline_task,
        baseline_runs=ns.baseline_runs,
        verify=VerifyConfig(
            seeds=tuple(int(s) for s in ns.seeds.split(",") if s) or None,
            generalization=not ns.no_generalization,
            screen=not ns.no_screen,
            screen_margin=ns.screen_margin,
            public_margin=ns.public_margin,
        ),
    )
    return Overseer(api, cfg, runner)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s overseer %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    ns = parse(argv)
    ov = build(ns)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        ov.run(stop, until_idle=ns.until_idle)
    finally:
        ov.api.close()


if __name__ == "__main__":
    main()
