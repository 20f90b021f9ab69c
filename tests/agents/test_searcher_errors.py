"""A searcher whose runs fail (here: past their time limit) reports each failure as an `error` finding with
the idea's snapshot, spends no evaluation on it, does not retry the same recipe, and stops normally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aar.agents.searcher import space
from aar.supervisor.config import ExtraProcess, RunConfig
from aar.supervisor.run import Supervisor


@pytest.mark.timeout(200)
def test_failed_runs_become_error_findings(tiny_tasks: Path, tmp_path: Path) -> None:
    cfg = RunConfig.model_validate(
        {
            "run_dir": tmp_path / "run",
            "task": "code",
            "size": "tiny",
            "tasks_dir": tiny_tasks,
            "sandbox": "bwrap",
            "compute_slots": 1,
            "wall_time": 120,
            "stop_grace": 5,
            "max_restarts": 0,
            "agents": {
                "count": 1,
                "names": ["dave"],
                "directions": ["robust-losses"],
                "searcher": {"max_ideas": 2, "modes": ["probe"], "run_timeout": 0.5},
            },
        }
    )
    # an extra worker (how the overseer is started) lives and dies with the run
    probe = tmp_path / "extra.json"
    code = (
        "import json, os, sys, time; e = os.environ; "
        "d = {'argv': sys.argv[1:], 'admin': e.get('AAR_ADMIN_TOKEN'), 'uds': e.get('AAR_SERVER_UDS')}; "
        f"json.dump(d, open({str(probe)!r}, 'w')); time.sleep(600)"
    )
    extra = ExtraProcess(
        name="watcher", command=["{python}", "-c", code, "{run_dir}", "{task}", "{not_a_key}"]
    )
    sup = Supervisor(cfg, live=False, extra_processes=[extra])
    try:
        sup.start()
        assert sup.wait(timeout=150)
        assert sup.agents["dave"].state == "done"
        assert sup.extras["watcher"].alive()
        seen = json.loads(probe.read_text())
        assert seen["argv"] == [str(cfg.run_dir), "code", "{not_a_key}"]
        assert seen["admin"] == (cfg.run_dir / "admin_token").read_text().strip()
        assert seen["uds"] == str(cfg.run_dir / "server.sock")
        with sup.admin() as admin:
            findings = admin.findings(limit=100)
            subs = admin.submissions()
            errors = [f for f in findings if f["type"] == "error"]
            assert len(errors) == 2 and all(f["snapshot_id"] for f in errors)
            assert not [f for f in findings if f["type"] == "result"] and subs == []
            recipes = [
                json.loads(
                    (
                        admin.download_snapshot(f["snapshot_id"], tmp_path / str(f["id"])) / "config.json"
                    ).read_text()
                )
                for f in errors
            ]
    finally:
        sup.stop()
    assert not sup.extras["watcher"].alive() and sup.extras["watcher"].state == "stopped"
    assert space.key(recipes[0]) != space.key(recipes[1])
    audit = [
        json.loads(x) for x in (cfg.run_dir / "agents" / "dave" / "audit.jsonl").read_text().splitlines()
    ]
    runs = [e for e in audit if e["tool"] == "bash"]
    assert len(runs) == 2 and not any(e["ok"] for e in runs)
    assert not [e for e in audit if e["tool"] == "evaluate"]
    state = json.loads(
        (cfg.run_dir / "agents" / "dave" / "workspace" / ".searcher" / "state.json").read_text()
    )
    assert state["loop"]["end_reason"] == "max_ideas" and state["loop"]["evaluations"] == 0
