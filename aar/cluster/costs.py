"""Where a run's work ran: per node, the experiments (agents' idea runs and experiment commands, overseer
re-runs) and their measured cost (CPU-seconds of the sandboxed process trees, GPU-seconds held), and the
nodes each agent ran on. Read from the run folder: agents/<name>/experiments.jsonl and placements.jsonl
(pulled to the head under the Ray executor) and overseer/runs.jsonl.

The one place these figures are computed: the live table, the dashboard (`aar.server`) and the report
all call `by_node`. Standard library only, so the server may import it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXPERIMENTS, PLACEMENTS = "experiments.jsonl", "placements.jsonl"


def lines(path: Path) -> list[dict]:
    """The JSON objects of a .jsonl file; unreadable lines (a write in progress) are left out."""
    out = []
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


def _agent_dirs(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / "agents"
    return sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []


def experiments(run_dir: Path) -> list[dict]:
    run_dir = Path(run_dir)
    recs = [r for a in _agent_dirs(run_dir) for r in lines(a / EXPERIMENTS)]
    return recs + lines(run_dir / "overseer" / "runs.jsonl")


def placements(run_dir: Path) -> dict[str, list[dict]]:
    """Agent -> its starts in order ({"t", "node", "restart"}), for agents with any."""
    out = {}
    for a in _agent_dirs(run_dir):
        starts = lines(a / PLACEMENTS)
        if starts:
            out[a.name] = starts
    return out


def node_id_at(run_dir: Path, agent: str, t: float) -> str | None:
    """The Ray node id `agent` ran on at time `t` (its last start at or before `t`; its first start when
    `t` is earlier), from the head's placements; None when the run records none (local executor)."""
    starts = [r for r in lines(Path(run_dir) / "agents" / agent / PLACEMENTS) if r.get("node_id")]
    before = [r for r in starts if float(r.get("t", 0.0)) <= t]
    pick = before[-1] if before else (starts[0] if starts else None)
    return None if pick is None else str(pick["node_id"])


def agent_nodes(run_dir: Path) -> dict[str, list[str]]:
    """Agent -> the nodes it ran on, in order (one entry per start)."""
    return {a: [str(r.get("node")) for r in starts] for a, starts in placements(run_dir).items()}


def _blank() -> dict[str, Any]:
    zero = {"seconds": 0.0, "cpu_seconds": 0.0, "gpu_seconds": 0.0}
    return {"runs": 0, "agent_runs": 0, "overseer_runs": 0, **zero}


def by_node(run_dir: Path) -> dict[str, Any]:
    """{"nodes": {node: {runs, agent_runs, overseer_runs, seconds, cpu_seconds, gpu_seconds, agents?}},
    "agents": {agent: [node per start]}}."""
    nodes: dict[str, dict[str, Any]] = {}
    for r in experiments(run_dir):
        n = nodes.setdefault(str(r.get("node") or "?"), _blank())
        n["runs"] += 1
        n["overseer_runs" if r.get("agent") == "overseer" else "agent_runs"] += 1
        for k in ("seconds", "cpu_seconds", "gpu_seconds"):
            n[k] += float(r.get(k) or 0.0)
    placed = agent_nodes(run_dir)
    for agent, where in placed.items():
        for node in where:
            agents = nodes.setdefault(node, _blank()).setdefault("agents", [])
            if agent not in agents:
                agents.append(agent)
    return {"nodes": dict(sorted(nodes.items())), "agents": placed}


RUNNING = "running.json"


class RunningLog:
    """RUN_DIR/agents/<name>/running.json: the agent's experiments waiting for compute (`queued`),
    handed to Ray (`submitted`) or `running` now, as [{label, state, node, since}], so the dashboard can
    show them under any executor (under Ray it reaches the head with the agent's folder). Rewritten whole
    (write, then rename) at each change; cleared when the agent starts."""

    def __init__(self, agent_dir: Path):
        import itertools
        import threading

        self.path = Path(agent_dir) / RUNNING
        self.now: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._write()  # a (re)started agent has nothing running yet: clear what a killed one left

    def start(self, label: str, state: str, node: str | None = None) -> int:
        import time

        with self._lock:
            key = next(self._ids)
            self.now[key] = {"label": label, "state": state, "node": node, "since": time.time()}
            self._write()
        return key

    def update(self, key: int, state: str, node: str | None) -> None:
        import time

        with self._lock:
            if key in self.now:
                self.now[key].update(state=state, node=node, since=time.time())
                self._write()

    def done(self, key: int) -> None:
        with self._lock:
            if self.now.pop(key, None) is not None:
                self._write()

    def _write(self) -> None:
        tmp = self.path.with_name(f".{RUNNING}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(list(self.now.values())))
            tmp.replace(self.path)
        except OSError:  # the dashboard's view must never stop an experiment
            pass


def running(run_dir: Path) -> list[dict]:
    """Every agent's running.json entries with the agent as `owner`."""
    out = []
    for a in _agent_dirs(run_dir):
        try:
            recs = json.loads((a / RUNNING).read_text())
        except (OSError, ValueError):
            continue
        out += [{**r, "owner": a.name} for r in recs if isinstance(r, dict)] if isinstance(recs, list) else []
    return out


def agent_experiments(run_dir: Path) -> dict[str, list[dict]]:
    """Agent -> its experiments.jsonl records, oldest first."""
    return {a.name: recs for a in _agent_dirs(run_dir) if (recs := lines(a / EXPERIMENTS))}
