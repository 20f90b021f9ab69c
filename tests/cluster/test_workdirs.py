"""A Ray task's work folder on its node: locked while the task lives, swept by the next task once the task
is gone, a hard-quota workspace volume it left mounted unmounted first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aar.cluster.workdirs import sweep, task_work_dir
from aar.sandbox import quota

# a task that mounts its workspace volume, writes there, and is killed outright (no finally runs)
KILLED_TASK = """
import os, signal, sys
from pathlib import Path
from aar.cluster.workdirs import task_work_dir
from aar.sandbox import quota
with task_work_dir(Path(sys.argv[1])) as work:
    ws = work / "run" / "workspace"
    ws.mkdir(parents=True)
    quota.mount_volume(ws, 8)
    (ws / "out.txt").write_text("partial")
    print(ws, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_live_task_keeps_its_folder_and_a_finished_one_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "work"
    with task_work_dir(root) as work:
        (work / "f.txt").write_text("x")
        assert sweep(root, stale_after=0) == []  # its lock is held
        assert (work / "f.txt").exists()
    assert list(root.iterdir()) == []


def test_the_folder_and_mounted_volume_of_a_killed_task_are_swept(tmp_path: Path) -> None:
    assert quota.available(), "the hard quota needs root, loop devices and mkfs.ext4 (as on the test machine)"
    root = tmp_path / "work"
    cp = subprocess.run([sys.executable, "-c", KILLED_TASK, str(root)], capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode == -9, cp.stderr
    ws = Path(cp.stdout.strip())
    try:
        assert quota.is_mountpoint(ws) and (ws / "out.txt").read_text() == "partial"
        assert sweep(root) == []  # a lock file this young may be a task about to take its lock
        assert sweep(root, stale_after=0) == [ws.parent.parent]
        assert not quota.is_mountpoint(ws) and list(root.iterdir()) == []
    finally:
        quota.drop_volumes_under(tmp_path)
