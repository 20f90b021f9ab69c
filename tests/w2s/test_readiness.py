"""Readiness of built tasks and the list of tasks a live build has not finished."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from aar.tasks.readiness import BUILDING, draw_ready, pending_tasks, task_ready


def test_a_draw_is_ready_only_when_complete(tiny_tasks: Path, tmp_path: Path) -> None:
    assert task_ready(tiny_tasks, "math", ("probe", "finetune"))
    copy = tmp_path / "math"
    shutil.copytree(tiny_tasks / "math", copy)
    pub = copy / "heldout" / "public"
    assert draw_ready(pub)
    (pub / "weak" / "seed1.json").unlink()
    assert not draw_ready(pub) and not task_ready(tmp_path, "math")
    meta = json.loads((copy / "main" / "public" / "meta.json").read_text())
    del meta["baselines"]["finetune"]
    (copy / "main" / "public" / "meta.json").write_text(json.dumps(meta))
    assert draw_ready(copy / "main" / "public") and not draw_ready(copy / "main" / "public", ("finetune",))
    assert not task_ready(tmp_path, "chess")


def test_pending_tasks_come_from_live_builds_only(tmp_path: Path) -> None:
    status = tmp_path / BUILDING
    status.mkdir()
    # maze is ready for checks while its other modes' baselines are still built
    live = {"math": "done", "code": "running", "world": "queued", "maze": "ready; building other modes"}
    (status / "1.json").write_text(json.dumps({"pid": os.getpid(), "tasks": live, "checkable": ["maze"]}))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    (status / "2.json").write_text(json.dumps({"pid": int(dead.stdout), "tasks": {"chess": "running"}}))
    (status / "3.json").write_text("not json")
    assert pending_tasks(tmp_path) == ["code", "world"]
    assert pending_tasks(tmp_path / "nothing") == []
