"""What the agents and the overseer are doing, for the dashboard: last actions from the agents' audit logs,
experiments queued or running (the run's compute queue and the agents' running.json) with their nodes, the
node each agent runs on (placements.jsonl), compute per node (`aar.cluster.costs.by_node`, the figures of
the live table and the report), the overseer's queue (RUN_DIR/overseer/state.json) and the server's
verification statuses."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import func, select

from aar.cluster import costs
from aar.cluster.node import node_name
from aar.server.auth import Principal, principal
from aar.server.models import Finding, Submission, Verification
from aar.server.routes.common import iso
from aar.times import as_epoch

router = APIRouter(include_in_schema=False)

ACTION_CHARS = 90
# the argument that says what a call does, per tool (contracts: "Agent tool set")
MAIN_ARG = {
    "bash": "command",
    "read_file": "path",
    "write_file": "path",
    "edit_file": "path",
    "list_files": "path",
    "evaluate": "predictions_path",
    "share_finding": "title",
    "search_forum": "query",
    "leaderboard": "task",
    "download_snapshot": "snapshot_id",
    "read_forum": "since",
}


def _last_line(path: Path, max_bytes: int = 16384) -> dict | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        rec = json.loads(lines[-1]) if lines else None
        return rec if isinstance(rec, dict) else None
    except (OSError, ValueError):
        return None


def short(text: str, n: int = ACTION_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def short_command(command: str) -> str:
    """The command that matters in a shell line: the last of `a && b`, without VAR=value prefixes, the
    interpreter named by its file name (`/x/.venv/bin/python -m m` -> `python -m m`)."""
    last = command.split("&&")[-1].strip()
    try:
        words = shlex.split(last)
    except ValueError:
        return last
    while words and "=" in words[0] and not words[0].startswith(("-", "/", ".")):
        words.pop(0)
    if words and "/" in words[0]:
        words[0] = words[0].rsplit("/", 1)[1]
    return " ".join(words) or last


def action_text(tool: object, args: object) -> str:
    """`bash: python -m aarlab.w2s.run_idea ideas/idea-004 …` — the tool and its main argument, short."""
    tool = str(tool or "?")
    if not isinstance(args, dict):
        return short(f"{tool}: {args}" if args else tool)
    key = MAIN_ARG.get(tool)
    val = args.get(key) if key else None
    if val is None and tool == "evaluate":
        val = args.get("idea") or ("inline predictions" if "predictions" in args else None)
    if val is None:
        val = next((v for v in args.values() if isinstance(v, str | int | float)), None)
    if val is None:
        return tool
    text = short_command(val) if tool == "bash" and isinstance(val, str) else str(val)
    return short(f"{tool}: {text}")


def epoch_iso(t: float | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _queued(run_dir: Path) -> list[dict]:
    """Live tickets of RUN_DIR/queue (aar.compute), the head's own queue: on this host."""
    db = Path(run_dir) / "queue" / "queue.db"
    if not db.exists():
        return []
    from aar.compute import ComputeQueue

    try:
        rows = ComputeQueue(db.parent, 1).status()
    except Exception:  # noqa: BLE001 - a queue being created or locked shows as nothing queued
        return []
    host = node_name()
    return [
        {
            "owner": r["owner"],
            "label": r["label"],
            "state": r["state"],
            "node": host,
            "since": epoch_iso(r["started_at"] if r["state"] == "running" else r["queued_at"]),
            "seconds": round(float(r["seconds"]), 1),
        }
        for r in rows
    ]


def experiments(run_dir: Path) -> list[dict]:
    """Experiments queued or running: the compute queue's tickets, then what agents report in their
    running.json (experiments under the Ray executor; the same one seen in both is listed once)."""
    out = _queued(run_dir)
    seen = {(e["owner"], e["label"]) for e in out}
    now = dt.datetime.now(dt.UTC).timestamp()
    for r in costs.running(run_dir):
        if (r.get("owner"), r.get("label")) in seen:
            continue
        since = as_epoch(r.get("since"))
        state = r.get("state") if r.get("state") in ("running", "submitted") else "queued"
        out.append(
            {
                "owner": r["owner"],
                "label": str(r.get("label") or ""),
                "state": state,
                "node": r.get("node"),
                "since": epoch_iso(since),
                "seconds": round(max(0.0, now - since), 1) if since is not None else 0.0,
            }
        )
    return out


def recent(run_dir: Path, per_agent: int = 3) -> dict[str, list[dict]]:
    """Per agent: its last finished experiments (experiments.jsonl) with node and measured cost."""
    out = {}
    for agent, recs in costs.agent_experiments(run_dir).items():
        out[agent] = [
            {
                "label": str(r.get("label") or ""),
                "node": r.get("node"),
                "t": epoch_iso(as_epoch(r.get("t"))),
                "seconds": r.get("seconds"),
                "cpu_seconds": r.get("cpu_seconds"),
                "gpu_seconds": r.get("gpu_seconds"),
            }
            for r in recs[-per_agent:]
        ]
    return out


def placements(run_dir: Path) -> dict[str, dict]:
    """Per agent: the node it is on now (its latest start), its restarts and every node it ran on."""
    return {
        agent: {
            "node": str(starts[-1].get("node")),
            "since": epoch_iso(as_epoch(starts[-1].get("t"))),
            "restarts": len(starts) - 1,
            "nodes": [str(s.get("node")) for s in starts],
        }
        for agent, starts in costs.placements(run_dir).items()
    }


@router.get("/dashboard/agents.json")
def agent_activity(request: Request, _: Annotated[Principal, Depends(principal)]) -> dict:
    """Per agent: its last tool call (RUN_DIR/agents/<name>/audit.jsonl) as text and ISO time; experiments
    queued or running and the last ones finished, with their nodes; where each agent runs (and ran);
    compute per node; the per-run budget."""
    settings = request.app.state.aar.settings
    out: dict[str, dict] = {}
    root = Path(settings.run_dir) / "agents"
    for audit in sorted(root.glob("*/audit.jsonl")) if root.is_dir() else []:
        rec = _last_line(audit)
        if rec:
            t = as_epoch(rec.get("t"))
            out[audit.parent.name] = {
                "last_action": action_text(rec.get("tool"), rec.get("args")),
                "tool": rec.get("tool"),
                "t": epoch_iso(t),
                "ok": rec.get("ok"),
                "seconds": rec.get("seconds"),
            }
    run_dir = Path(settings.run_dir)
    return {
        "agents": out,
        "budget": settings.budget,
        "experiments": experiments(run_dir),
        "recent": recent(run_dir),
        "placements": placements(run_dir),
        "nodes": costs.by_node(run_dir)["nodes"],
    }


def _read_state(run_dir: Path) -> dict | None:
    try:
        raw = json.loads((Path(run_dir) / "overseer" / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) else None


def verification_counts(request: Request, task: str | None, held: set[int] | None = None) -> dict[str, int]:
    """Claims by the server's verification status; `pending` = results with no verification yet, less the
    `deferred` ones: those in `held`, the claims the overseer checked on the main task and holds for the
    held-out tasks' build (its state file; the report shows them the same way)."""
    st = request.app.state.aar
    with st.sessions() as s:
        results = select(Finding.id).outerjoin(Submission, Submission.id == Finding.submission_id)
        results = results.where(Finding.type == "result")
        if task is not None:
            results = results.where(func.coalesce(Finding.task, Submission.task) == task)
        ids = set(s.scalars(results).all())
        rows = s.execute(select(Verification.finding_id, Verification.status)).all()
    out = dict.fromkeys(("verified", "screened", "flagged", "failed", "deferred", "pending"), 0)
    seen = set()
    for fid, status in rows:
        if fid in ids:
            seen.add(fid)
            out[status] = out.get(status, 0) + 1
    open_ids = ids - seen
    out["deferred"] = len(open_ids & (held or set()))
    out["pending"] = len(open_ids) - out["deferred"]
    return out


@router.get("/dashboard/overseer.json")
def overseer_activity(
    request: Request,
    _: Annotated[Principal, Depends(principal)],
    task: str | None = Query(None, max_length=100),
) -> dict:
    """The overseer's queue (jobs by status, what it is re-running, baselines, compute) and the server's
    verification statuses of the claims on `task` (all tasks when absent)."""
    settings = request.app.state.aar.settings
    state = _read_state(settings.run_dir)
    jobs = (state or {}).get("jobs") or {}
    counts = dict.fromkeys(("queued", "running", "deferred", "done", "failed"), 0)
    running, held = [], set()
    for job in jobs.values() if isinstance(jobs, dict) else []:
        if not isinstance(job, dict):
            continue
        status = str(job.get("status"))
        counts[status] = counts.get(status, 0) + 1
        if status == "deferred" and isinstance(job.get("finding_id"), int):
            held.add(job["finding_id"])
        if status == "running":
            running.append(
                {
                    "finding_id": job.get("finding_id"),
                    "agent": job.get("agent"),
                    "since": epoch_iso(as_epoch(job.get("started_at"))),
                }
            )
    baselines = (state or {}).get("baselines") or {}
    wanted = (state or {}).get("baselines_wanted") or []
    compute = (state or {}).get("compute") or {}
    return {
        "present": state is not None,
        "jobs": counts,
        "running": sorted(running, key=lambda r: r["finding_id"] or 0),
        "baselines": {
            "wanted": [str(b) for b in wanted],
            "done": {
                str(k): {"status": v.get("status"), "verified_pgr": v.get("verified_pgr")}
                for k, v in baselines.items()
                if isinstance(v, dict)
            },
        },
        "compute": {
            "runs": compute.get("runs", 0),
            "cpu_hours": round(float(compute.get("cpu_seconds", 0.0)) / 3600.0, 3),
        },
        "verifications": verification_counts(request, task, held),
        "experiments": [e for e in experiments(settings.run_dir) if e["owner"] == "overseer"],
        "checked_at": iso(dt.datetime.now(dt.UTC).replace(tzinfo=None)),
    }
