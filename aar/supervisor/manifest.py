"""RUN_DIR/manifest.json: what ran, from which code, with which seeds, and how it ended.

```json
{"schema_version": 1, "id": "<uuid4 hex>", "status": "running|done|failed|stopped",
 "started_at": "<ISO 8601 UTC, first start>", "ended_at": "<last end, or null while running>",
 "aar_version": "0.1.0", "git_commit": "<sha or null>", "git_dirty": false,
 "task": "math", "tasks_dir": "/abs", "seeds": {"searcher": [0, 1], "task": [0, 1, 2]},
 "config_hash": "<sha256 of run.toml as validated>",
 "sessions": [{"started_at", "ended_at", "status", "aar_version", "git_commit"}]}
```
Written by the supervisor when a run starts (`begin`) and when it stops (`end`); `aar resume` keeps the id
and appends a session. `git_commit` is the commit of the checkout the `aar` package is imported from (null
when it is not a git work tree, e.g. an installed wheel).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

from aar.supervisor.config import RunConfig

SCHEMA_VERSION = 1
NAME = "manifest.json"
STATUSES = ("running", "done", "failed", "stopped")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def aar_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aar")
    except PackageNotFoundError:
        import aar

        return aar.__version__


def git_state() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git checkout holding the imported `aar` package, or (None, None)."""
    import aar

    root = Path(aar.__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root:
        return None, None
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "HEAD"), (bool(dirty) if dirty is not None else None)


def config_hash(cfg: RunConfig) -> str:
    doc = json.dumps(cfg.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()


def seeds(cfg: RunConfig) -> dict[str, list[int]]:
    searcher = sorted({s for g in cfg.agents if g.kind == "searcher" for s in g.searcher.seeds})
    meta_path = cfg.resolved_tasks_dir() / cfg.task / "main" / "public" / "meta.json"
    try:
        task = [int(s) for s in json.loads(meta_path.read_text()).get("seeds", [])]
    except (OSError, ValueError):
        task = []
    return {"searcher": searcher, "task": task}


def read(run_dir: Path) -> dict | None:
    path = Path(run_dir) / NAME
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _write(run_dir: Path, doc: dict) -> dict:
    path = Path(run_dir) / NAME
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, path)
    return doc


def begin(run_dir: Path, cfg: RunConfig) -> dict:
    """Mark the run running (a new manifest, or a resumed one with a new session)."""
    t = now()
    commit, dirty = git_state()
    version = aar_version()
    doc = read(run_dir) or {"schema_version": SCHEMA_VERSION, "id": uuid.uuid4().hex, "started_at": t,
                            "sessions": []}
    doc.update(status="running", ended_at=None, aar_version=version, git_commit=commit, git_dirty=dirty,
               task=cfg.task, tasks_dir=str(cfg.resolved_tasks_dir()), seeds=seeds(cfg),
               config_hash=config_hash(cfg))
    doc.setdefault("sessions", []).append(
        {"started_at": t, "ended_at": None, "status": "running", "aar_version": version, "git_commit": commit}
    )
    return _write(run_dir, doc)


def end(run_dir: Path, status: str) -> dict | None:
    """Record how the run (its latest session) ended."""
    if status not in STATUSES[1:]:
        raise ValueError(f"status must be one of {STATUSES[1:]}")
    doc = read(run_dir)
    if doc is None:
        return None
    t = now()
    doc.update(status=status, ended_at=t)
    if doc.get("sessions"):
        doc["sessions"][-1].update(ended_at=t, status=status)
    return _write(run_dir, doc)
