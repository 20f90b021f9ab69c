"""`GET /api/run`: the run this server serves — its main task and a summary of its config (no paths)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from fastapi import APIRouter, Request

from aar.server.auth import Caller
from aar.server.routes.common import state_of

router = APIRouter(prefix="/api")

SUMMARY_KEYS = ("size", "wall_time", "sandbox", "budget_per_agent", "compute_slots", "threads_per_job")


def read_run_toml(run_dir: Path) -> dict:
    try:
        raw = tomllib.loads((Path(run_dir) / "run.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    return raw if isinstance(raw, dict) else {}


def run_summary(request: Request) -> dict:
    st = state_of(request)
    raw = read_run_toml(st.settings.run_dir)
    groups = raw.get("agents")
    groups = [groups] if isinstance(groups, dict) else groups if isinstance(groups, list) else []
    task = st.settings.task or (raw.get("task") if isinstance(raw.get("task"), str) else None)
    return {
        "task": task,
        "tasks": st.tasks.names(),
        "budget": st.settings.budget,
        "config": {k: raw[k] for k in SUMMARY_KEYS if isinstance(raw.get(k), int | float | str)},
        "agents": [
            {"kind": str(g.get("kind", "searcher")), "count": int(g.get("count", 1))}
            for g in groups
            if isinstance(g, dict) and isinstance(g.get("count", 1), int)
        ],
    }


@router.get("/run")
def run(request: Request, _: Caller) -> dict:
    """The run's main task (`aar serve --task`, else RUN_DIR/run.toml's `task`; null when neither names one),
    the tasks served, the evaluation budget and a summary of run.toml."""
    return run_summary(request)
