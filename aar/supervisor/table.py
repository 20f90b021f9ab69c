"""The live view of a run: one row per agent (state, last action, evaluations, best public PGR, queue)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.table import Table


def last_action(audit_path: Path, max_bytes: int = 16384) -> str:
    """The last tool call in an agent's audit log, in a few words ('' when there is none)."""
    try:
        with open(audit_path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        return describe(rec)
    return ""


def describe(rec: dict[str, Any]) -> str:
    tool = str(rec.get("tool", "?"))
    args = rec.get("args") or {}
    detail = ""
    if isinstance(args, dict):
        for k in ("command", "title", "path", "snapshot_id", "query", "idea", "predictions_path"):
            if args.get(k):
                detail = str(args[k])
                break
    detail = " ".join(detail.split())
    if len(detail) > 48:
        detail = detail[:45] + "..."
    mark = "" if rec.get("ok", True) else " ✗"
    age = ""
    if isinstance(rec.get("t"), int | float):
        age = f" ({_ago(time.time() - rec['t'])})"
    return f"{tool}{mark} {detail}".strip() + age


def _ago(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


def node_costs(nodes: dict[str, dict[str, Any]]) -> str:
    """One line: per node, experiments run and their measured CPU- (and GPU-) seconds."""
    parts = []
    for name, n in nodes.items():
        gpu = f", {n['gpu_seconds']:.0f} GPU-s" if n.get("gpu_seconds") else ""
        parts.append(f"{name}: {n['runs']} runs, {n['cpu_seconds']:.0f} CPU-s{gpu}")
    return "per node: " + "; ".join(parts) if parts else ""


def render(rows: list[dict[str, Any]], title: str, footer: str = "") -> Table:
    table = Table(title=title, caption=footer or None, expand=False)
    for col, just in [
        ("agent", "left"),
        ("kind", "left"),
        ("direction", "left"),
        ("state", "left"),
        ("node", "left"),
        ("last action", "left"),
        ("evals", "right"),
        ("best PGR", "right"),
        ("queue", "left"),
    ]:
        table.add_column(col, justify=just, no_wrap=col != "last action", overflow="fold")
    for r in rows:
        best = "-" if r.get("best_pgr") is None else f"{r['best_pgr']:.3f}"
        q = r.get("queue") or {}
        queue = f"{q.get('running', 0)} running, {q.get('queued', 0)} queued" if q else "-"
        state = str(r.get("state", ""))
        if r.get("restarts"):
            state += f" (restarts {r['restarts']})"
        budget = f"/{r['budget']}" if r.get("budget") else ""
        style = {"running": "green", "failed": "red", "restarting": "yellow"}.get(str(r.get("state")), "")
        table.add_row(
            str(r["agent"]),
            str(r.get("kind", "")),
            str(r.get("direction", "")),
            f"[{style}]{state}[/]" if style else state,
            str(r.get("node") or "-"),
            str(r.get("last_action", "")),
            f"{r.get('evaluations', 0)}{budget}",
            best,
            queue,
        )
    return table
