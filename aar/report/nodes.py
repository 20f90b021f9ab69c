"""Where a run's work ran: per node, the experiments (agents' idea runs and overseer re-runs) and their
measured cost (CPU-seconds of the sandboxed process trees, GPU-seconds held), and the nodes each agent
ran on. Read from the run folder: agents/<name>/experiments.jsonl and placements.jsonl (pulled to the
head under the Ray executor) and overseer/runs.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _lines(path: Path) -> list[dict]:
    out = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def experiments(run_dir: Path) -> list[dict]:
    run_dir = Path(run_dir)
    recs = [r for a in sorted((run_dir / "agents").glob("*")) for r in _lines(a / "experiments.jsonl")]
    return recs + _lines(run_dir / "overseer" / "runs.jsonl")


def agent_nodes(run_dir: Path) -> dict[str, list[str]]:
    """Agent -> the nodes it ran on, in order (one entry per start)."""
    out = {}
    for a in sorted((Path(run_dir) / "agents").glob("*")):
        starts = [str(r.get("node")) for r in _lines(a / "placements.jsonl")]
        if starts:
            out[a.name] = starts
    return out


def by_node(run_dir: Path) -> dict[str, Any]:
    nodes: dict[str, dict[str, Any]] = {}
    for r in experiments(run_dir):
        n = nodes.setdefault(
            str(r.get("node") or "?"),
            {
                "runs": 0,
                "agent_runs": 0,
                "overseer_runs": 0,
                "seconds": 0.0,
                "cpu_seconds": 0.0,
                "gpu_seconds": 0.0,
            },
        )
        n["runs"] += 1
        n["overseer_runs" if r.get("agent") == "overseer" else "agent_runs"] += 1
        for k in ("seconds", "cpu_seconds", "gpu_seconds"):
            n[k] += float(r.get(k) or 0.0)
    placed = agent_nodes(run_dir)
    for agent, where in placed.items():
        for node in where:
            agents = nodes.setdefault(
                node,
                {
                    "runs": 0,
                    "agent_runs": 0,
                    "overseer_runs": 0,
                    "seconds": 0.0,
                    "cpu_seconds": 0.0,
                    "gpu_seconds": 0.0,
                },
            ).setdefault("agents", [])
            if agent not in agents:
                agents.append(agent)
    return {"nodes": dict(sorted(nodes.items())), "agents": placed}
