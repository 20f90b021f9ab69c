"""The supervisor's wall-time and budget enforcement and its live table (agent processes injected)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rich.console import Console

from aar.supervisor.config import RunConfig
from aar.supervisor.procs import ManagedProcess
from aar.supervisor.run import Supervisor
from aar.supervisor.table import last_action

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]


def _sup(tmp_path: Path, **kw: object) -> Supervisor:
    cfg = RunConfig.model_validate(
        {"run_dir": tmp_path / "run", "task": "math", "stop_grace": 2, "agents": {"count": 2}, **kw}
    )
    sup = Supervisor(cfg, live=False)
    sup.started_at = time.time()
    for name, group in cfg.agent_specs():
        sup.groups[name] = group
        p = ManagedProcess(name, SLEEP, sup.run_dir / "agents" / name / "agent.log")
        p.start()
        sup.agents[name] = p
    return sup


def test_wall_time_stops_every_agent(tmp_path: Path) -> None:
    sup = _sup(tmp_path, wall_time=100)
    try:
        assert sup.step() is True
        sup.deadline = time.time() - 1
        assert sup.step() is False
        assert {p.state for p in sup.agents.values()} == {"wall_time"}
        assert not any(p.alive() for p in sup.agents.values())
    finally:
        sup.stop()


def test_budget_stops_only_the_agent_over_it_and_table_shows_it(tmp_path: Path) -> None:
    sup = _sup(tmp_path, budget_per_agent=3)
    usage = {
        "searcher-1": {"evaluations": 3, "best_pgr": 0.4125},
        "searcher-2": {"evaluations": 1, "best_pgr": None},
    }
    sup.usage = lambda max_age=2.0: usage  # type: ignore[method-assign]
    audit = sup.run_dir / "agents" / "searcher-2" / "audit.jsonl"
    audit.write_text(
        json.dumps(
            {
                "t": time.time(),
                "tool": "bash",
                "args": {"command": "python -m aarlab.w2s.run_idea x"},
                "ok": True,
            }
        )
        + "\n"
    )
    try:
        assert sup.step() is True
        assert sup.agents["searcher-1"].state == "budget" and not sup.agents["searcher-1"].alive()
        assert sup.agents["searcher-2"].state == "running" and sup.agents["searcher-2"].alive()
        assert last_action(audit).startswith("bash python -m aarlab.w2s.run_idea x")
        console = Console(record=True, width=250)
        console.print(sup.view())
        text = console.export_text()
        for needle in ("searcher-1", "budget", "3/3", "0.412", "searcher-2", "running", "run_idea", "1/3"):
            assert needle in text, text
    finally:
        sup.stop()
    assert {p.state for p in sup.agents.values()} == {"budget", "stopped"}
