"""`python -m aar.tasks.zoo.worker --size S --task T [--force] [--roles weak,strong]`: pretrain one task's
missing zoo models (or just the roles named: the scheduler builds the blank model after the task's files).

Runs with the fixed numerics of `aar.tasks.numerics` (it re-executes itself with them when started
without), and reports progress as `aar.tasks.events` lines on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    from aar.tasks.numerics import ZOO_THREADS, pinned_env

    # the numerics (threads, kernels), not the wait policy, which the scheduler picks and no weight depends on
    env = {k: v for k, v in pinned_env().items() if k != "OMP_WAIT_POLICY"}
    if any(os.environ.get(k) != v for k, v in env.items()):  # torch reads these only when it loads
        os.execve(sys.executable, [sys.executable, "-m", "aar.tasks.zoo.worker", *(argv or sys.argv[1:])],
                  {**os.environ, **env})
    p = argparse.ArgumentParser(prog="python -m aar.tasks.zoo.worker")
    p.add_argument("--size", required=True)
    p.add_argument("--task", required=True)
    p.add_argument("--force", action="store_true")
    p.add_argument("--roles", default=None, help="comma-separated roles to train (default: the missing ones)")
    ns = p.parse_args(argv)

    import torch

    from aar.tasks.events import emit
    from aar.tasks.zoo.build import missing_roles, train_task_models

    torch.set_num_threads(ZOO_THREADS)
    try:
        roles = ns.roles.split(",") if ns.roles else missing_roles(ns.task, ns.size, ns.force)
        train_task_models(ns.size, ns.task, roles, emit)
    except Exception as e:  # noqa: BLE001 - reported to the scheduler, then the traceback for the log
        emit(error=f"{type(e).__name__}: {e}")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
