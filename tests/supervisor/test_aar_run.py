"""`aar run` as an operator uses it: a crashed agent is restarted with its workspace intact, and SIGTERM
stops the run cleanly (no process left, nothing lost)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _wait(pred, timeout: float, what: str) -> None:  # noqa: ANN001
    t0 = time.time()
    while not pred():
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.1)


def _procs_mentioning(text: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if text in cmd and state != "Z":
                out.append(int(d.name))
    return out


def _results(audit: Path) -> list[dict]:
    if not audit.exists():
        return []
    rows = [json.loads(x) for x in audit.read_text().splitlines() if x.strip()]
    return [r for r in rows if r["tool"] == "share_finding" and r["args"].get("type") == "result" and r["ok"]]


@pytest.mark.timeout(300)
def test_restart_after_crash_and_clean_sigterm(tiny_tasks: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    conf = tmp_path / "run.toml"
    conf.write_text(
        f'run_dir = "{run_dir}"\ntask = "world"\nsize = "tiny"\ntasks_dir = "{tiny_tasks}"\n'
        'sandbox = "bwrap"\n'
        "compute_slots = 1\nmax_restarts = 2\nstop_grace = 5\nwall_time = 240\n"
        '[agents]\ncount = 1\nnames = ["carol"]\ndirections = ["soft-label-tuning"]\n'
        'searcher = { max_ideas = 6, modes = ["probe"] }\n'
    )
    aar = Path(sys.executable).parent / "aar"
    proc = subprocess.Popen(
        [str(aar), "run", "--config", str(conf), "--no-live"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    audit = run_dir / "agents" / "carol" / "audit.jsonl"
    try:
        _wait(lambda: len(_results(audit)) >= 1, 120, "the first result")
        # crash the agent (and its sandboxed children) the hard way
        agent_pids = [
            p
            for p in _procs_mentioning(str(run_dir))
            if "aar.agents.searcher" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        ]
        assert len(agent_pids) == 1
        os.killpg(os.getpgid(agent_pids[0]), signal.SIGKILL)
        _wait(
            lambda: "(restart 1)" in (run_dir / "agents" / "carol" / "agent.log").read_text(), 30, "restart"
        )
        _wait(lambda: len(_results(audit)) >= 2, 120, "a result after the restart")
        state = json.loads(
            (run_dir / "agents" / "carol" / "workspace" / ".searcher" / "state.json").read_text()
        )
        assert state["loop"]["ideas"] >= 2
        # the local executor records each start on this host, as the Ray executor does per node
        from aar.cluster.node import node_name

        placements = run_dir / "agents" / "carol" / "placements.jsonl"
        starts = [json.loads(x) for x in placements.read_text().splitlines()]
        assert [(s["node"], s["restart"]) for s in starts] == [(node_name(), 0), (node_name(), 1)], starts
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "carol: stopped" in out or "carol: done" in out, out
    run_manifest = json.loads((run_dir / "manifest.json").read_text())
    assert run_manifest["status"] == "stopped" and run_manifest["ended_at"], run_manifest
    assert _procs_mentioning(str(run_dir)) == []  # server, agent and sandboxed runs are all gone

    # nothing lost: every audited share is in the database, ideas never reused a name across the restart
    db = sqlite3.connect(run_dir / "aar.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n_findings = db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
    ideas = [r[0] for r in db.execute("SELECT idea FROM submissions")]
    db.close()
    shares = [json.loads(x) for x in audit.read_text().splitlines() if '"share_finding"' in x]
    assert n_findings == len([s for s in shares if s["ok"]])
    assert len(ideas) == len(set(ideas)) >= 2
    # RUN_DIR/run.toml is the validated config (absolute paths): `aar resume RUN_DIR` works from anywhere
    from aar.supervisor.config import load_config

    assert load_config(run_dir / "run.toml", cwd=Path("/")) == load_config(conf)
