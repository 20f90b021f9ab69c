"""Whether a task dir can be served, and if not, the command that makes it so (one line for every CLI, the
server's admin task list and `aar run`'s preflight). Reads public meta.json only."""

from __future__ import annotations

import json
from pathlib import Path


def prepare_command(task_dir: Path, meta: dict | None = None) -> str:
    """The command that computes a task's weak artifacts and fixed baselines."""
    meta = meta or {}
    if (meta.get("source") or {}).get("format") == "aar_jsonl":
        return f"aar w2s prepare-imported {task_dir.name} --tasks-dir {task_dir.parent}"
    return f"aar w2s prepare --size {meta.get('size', 'full')} --task {task_dir.name}"


def not_ready(task_dir: Path) -> str | None:
    """Why the task under `task_dir` cannot be scored (None when it can)."""
    task_dir = Path(task_dir)
    path = task_dir / "main" / "public" / "meta.json"
    if not path.is_file():
        return f"no task files at {task_dir} (no main/public/meta.json)"
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return f"unreadable: {path}: {e}"
    mode = meta.get("reference_mode", "probe")
    if not (meta.get("baselines") or {}).get(mode):
        return f"not prepared (no fixed {mode} baselines): run `{prepare_command(task_dir, meta)}`"
    return None
