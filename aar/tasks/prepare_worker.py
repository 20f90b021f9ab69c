"""`python -m aar.tasks.prepare_worker --size S --task T [--modes probe,finetune] [--missing-only]`.

One task's files, weak artifacts and fixed baselines (`aar.tasks.prepare.prepare_task`) with
`ZOO_THREADS` threads, reporting progress as `aar.tasks.events` lines on stdout.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m aar.tasks.prepare_worker")
    p.add_argument("--size", required=True)
    p.add_argument("--task", required=True)
    p.add_argument("--modes", default="probe,finetune")
    p.add_argument("--missing-only", action="store_true")
    ns = p.parse_args(argv)

    import torch

    from aar.paths import tasks_dir
    from aar.tasks.events import emit
    from aar.tasks.numerics import ZOO_THREADS
    from aar.tasks.prepare import prepare_task

    torch.set_num_threads(ZOO_THREADS)
    modes = tuple(m for m in ns.modes.split(",") if m)
    try:
        prepare_task(ns.task, ns.size, tasks_dir(ns.size), modes, ZOO_THREADS, emit, ns.missing_only)
    except Exception as e:  # noqa: BLE001 - reported to the scheduler, then the traceback for the log
        emit(error=f"{type(e).__name__}: {e}")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
