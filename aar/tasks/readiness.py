"""Whether a built task can be used yet, and which tasks a build still has under way.

A draw is ready when its files, models, weak artifacts for every seed and the baselines of the asked
modes are all written (`aar.tasks.prepare` writes them in that order, the reference mode's baselines
first). A running build (`aar.tasks.schedule.Build`) lists what it still has to do in
`<tasks root>/.building/<pid>.json`; a reader that needs a task still under way waits for it:
`aar demo` starts the team when its main task is ready, the overseer verifies claims once no task is
pending (`pending_tasks`). A task dir that cannot be served says why and which command makes it so
(`not_ready`: one line for every CLI, the server's admin task list and `aar run`'s preflight).
Light: the standard library only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

DRAWS = ("main", "heldout")
BUILDING = ".building"


def draw_ready(data_dir: Path, modes: Iterable[str] | None = None) -> bool:
    """`<task>/<draw>/public` has everything a run reads, with baselines for `modes` (default: the
    task's reference mode)."""
    data_dir = Path(data_dir)
    try:
        meta = json.loads((data_dir / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    modes = [meta.get("reference_mode", "probe")] if modes is None else list(modes)
    models = meta.get("models") or {}
    return (
        all(models.get(r) for r in ("weak", "strong"))
        and all(m in (meta.get("baselines") or {}) for m in modes)
        and all((data_dir / "weak" / f"seed{s}.json").is_file() for s in meta.get("seeds", []))
        and all((data_dir / f"{s}.jsonl").is_file() for s in ("train_label", "train_unlabel", "test"))
        and (data_dir.parent / "private" / "labels.json").is_file()
    )


def task_ready(root: Path, task: str, modes: Iterable[str] | None = None) -> bool:
    """Both draws of `task` under the tasks root are ready (see `draw_ready`)."""
    modes = None if modes is None else tuple(modes)
    return all(draw_ready(Path(root) / task / d / "public", modes) for d in DRAWS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pending_tasks(root: Path) -> list[str]:
    """Tasks that a live build under `root` has not made `ready` yet (sorted): ready is everything a check
    of a claim runs on (models, blank model, files, reference-mode baselines); other modes may follow."""
    out: set[str] = set()
    for path in (Path(root) / BUILDING).glob("*.json"):
        try:
            status = json.loads(path.read_text())
            pid = int(status["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid):
            checkable = set(status.get("checkable") or ())
            out.update(t for t, s in status.get("tasks", {}).items()
                       if s not in ("done", "failed") and t not in checkable)
    return sorted(out)


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
