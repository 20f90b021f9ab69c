"""Per-task work folders on a node. Each Ray task stages and runs in a folder of its own under the node's
cache, holding an flock on a lock file beside it for the task's life. A task killed outright (a lost
worker, a cluster shut down mid-run) cannot clean up, so its folder, and a hard-quota workspace volume still
mounted in it (a loop device and an image), would outlive it: each new task first sweeps the folders whose
lock no live process holds.

    with task_work_dir(node_cache() / "work") as work:   # work: an empty folder, removed at the end
        ...
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aar.sandbox.base import SandboxError
from aar.sandbox.quota import drop_volumes_under

# a lock file younger than this may belong to a task that created it and has not taken its lock yet
STALE_AFTER = 60.0


@contextmanager
def task_work_dir(root: Path) -> Iterator[Path]:
    """A fresh folder under `root`, locked while the block runs and removed (volumes unmounted) after it."""
    root.mkdir(parents=True, exist_ok=True)
    sweep(root)
    name = uuid.uuid4().hex
    lock = root / f"{name}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        work = root / name
        work.mkdir()
        try:
            yield work
        finally:
            _remove(work)
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def sweep(root: Path, stale_after: float = STALE_AFTER) -> list[Path]:
    """Remove the work folders under `root` whose task is gone (nobody holds their lock); the removed."""
    removed = []
    for lock in sorted(root.glob("*.lock")):
        try:
            if time.time() - lock.stat().st_mtime < stale_after:
                continue
            fd = os.open(lock, os.O_RDWR)
        except OSError:  # removed meanwhile by another task's sweep
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its task is alive
            work = root / lock.stem
            try:
                _remove(work)
            except SandboxError:
                continue  # a volume that will not unmount: left, and tried again by the next task
            lock.unlink(missing_ok=True)
            removed.append(work)
        finally:
            os.close(fd)
    return removed


def _remove(work: Path) -> None:
    drop_volumes_under(work)
    shutil.rmtree(work, ignore_errors=True)
