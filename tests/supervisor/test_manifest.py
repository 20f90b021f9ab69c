"""RUN_DIR/manifest.json: written at start, updated at stop, continued by a resume."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import aar
from aar.supervisor import manifest
from aar.supervisor.config import RunConfig


def _cfg(tmp_path: Path) -> RunConfig:
    tasks = tmp_path / "tasks"
    pub = tasks / "t" / "main" / "public"
    pub.mkdir(parents=True)
    (pub / "meta.json").write_text(json.dumps({"seeds": [3, 4]}))
    return RunConfig.model_validate({"run_dir": str(tmp_path / "run"), "task": "t", "tasks_dir": str(tasks),
                                     "agents": [{"count": 2, "searcher": {"seeds": [1, 0]}}]})


def test_begin_end_resume(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    cfg.run_dir.mkdir()
    doc = manifest.begin(cfg.run_dir, cfg)
    on_disk = json.loads((cfg.run_dir / "manifest.json").read_text())
    assert on_disk == doc and doc["status"] == "running" and doc["ended_at"] is None
    assert doc["schema_version"] == 1 and len(doc["id"]) == 32 and doc["aar_version"] == aar.__version__
    assert doc["seeds"] == {"searcher": [0, 1], "task": [3, 4]} and len(doc["config_hash"]) == 64
    root = Path(aar.__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert doc["git_commit"] == (head.stdout.strip() if head.returncode == 0 else None)
    done = manifest.end(cfg.run_dir, "done")
    assert done is not None and done["status"] == "done" and done["ended_at"] >= done["started_at"]
    again = manifest.begin(cfg.run_dir, cfg)  # `aar resume`: same id, a second session
    assert again["id"] == doc["id"] and again["status"] == "running"
    assert again["started_at"] == doc["started_at"]
    assert [s["status"] for s in again["sessions"]] == ["done", "running"]
    stopped = manifest.end(cfg.run_dir, "stopped")
    assert stopped is not None and [s["status"] for s in stopped["sessions"]] == ["done", "stopped"]
    assert manifest.config_hash(cfg) == doc["config_hash"]
    cfg.wall_time = 60
    assert manifest.config_hash(cfg) != doc["config_hash"]
    with pytest.raises(ValueError, match="status"):
        manifest.end(cfg.run_dir, "running")
