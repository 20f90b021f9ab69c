"""Two searcher agents against a real server on the tiny zoo, launched by the supervisor: both post results
with snapshots, at least one builds on the other's snapshot, and the audit logs account for every evaluation
and every finding the server holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aar.agents.searcher import space
from aar.supervisor.config import RunConfig
from aar.supervisor.run import Supervisor


def _audit(run_dir: Path, name: str) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "agents" / name / "audit.jsonl").read_text().splitlines()]


def _recipe_of(admin, snapshot_id: str, tmp: Path) -> dict:  # noqa: ANN001
    dest = admin.download_snapshot(snapshot_id, tmp / snapshot_id[:12])
    return json.loads((Path(dest) / "config.json").read_text())


@pytest.mark.timeout(400)
def test_two_searchers_share_and_build_on_each_other(tiny_tasks: Path, tmp_path: Path) -> None:
    cfg = RunConfig.model_validate(
        {
            "run_dir": tmp_path / "run",
            "task": "math",
            "size": "tiny",
            "tasks_dir": tiny_tasks,
            "sandbox": "bwrap",
            "compute_slots": 2,
            "threads_per_job": 1,
            "wall_time": 300,
            "budget_per_agent": 10,
            "stop_grace": 5,
            "max_restarts": 0,
            "agents": {
                "count": 2,
                "names": ["alice", "bob"],
                "directions": ["confidence-filtering", "auxiliary-confidence"],
                "searcher": {"max_ideas": 3, "modes": ["probe"], "import_margin": 10.0},
            },
        }
    )
    sup = Supervisor(cfg, live=False)
    try:
        sup.start()
        assert sup.wait(timeout=360), [p.state for p in sup.agents.values()]
        states = {n: p.state for n, p in sup.agents.items()}
        assert states == {"alice": "done", "bob": "done"}, states
        rows = {r["agent"]: r for r in sup.rows()}
        admin = sup.admin()
        findings = admin.findings(limit=1000)
        subs = admin.submissions()
        snaps = {s.get("snapshot_id") or s.get("id") for s in admin.snapshots()}
        _check(cfg.run_dir, admin, findings, subs, snaps, rows, tmp_path)
        assert sup.queue is not None and sup.queue.status() == []  # nothing left queued or running
    finally:
        sup.stop()


def _check(
    run_dir: Path,
    admin,
    findings: list[dict],
    subs: list[dict],
    snaps: set,
    rows: dict,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    by_id = {f["id"]: f for f in findings}

    # both post results, each carrying a snapshot of a runnable recipe idea
    for name in ("alice", "bob"):
        results = [f for f in findings if f["agent"] == name and f["type"] == "result"]
        assert len(results) == 3, [f["title"] for f in findings if f["agent"] == name]
        assert all(f["snapshot_id"] in snaps for f in results)
        assert rows[name]["evaluations"] == 3 and rows[name]["best_pgr"] is not None
        for f in results:
            assert "pgr" in f["metrics"] and f["submission_id"] is not None
        assert any(f["agent"] == name and f["type"] == "hypothesis" for f in findings)

    # at least one builds on the other's snapshot: download in the audit log, then a result whose parent is
    # that finding and whose recipe is the downloaded one (a replication) or derived from it
    built = 0
    for name, other in (("alice", "bob"), ("bob", "alice")):
        downloads = {
            e["args"]["snapshot_id"]
            for e in _audit(run_dir, name)
            if e["tool"] == "download_snapshot" and e["ok"]
        }
        for f in findings:
            parent = by_id.get(f.get("parent_id"))
            if f["agent"] != name or f["type"] != "result" or parent is None or parent["agent"] != other:
                continue
            assert parent["snapshot_id"] in downloads
            theirs = _recipe_of(admin, parent["snapshot_id"], tmp_path)
            mine = _recipe_of(admin, f["snapshot_id"], tmp_path)
            changed = space.diff(theirs, mine)
            main = [c for c in changed if not space.switches(c) & set(changed)]
            # a replication runs their recipe as it is (on our seeds); a build changes one or two components
            assert len(main) <= 2 and (main or "replicate" in f["body"]), changed
            assert parent["snapshot_id"] in f["body"]
            built += 1
    assert built >= 1

    # a replication of one's own idea on other seeds cites that idea's snapshot: one method, checked once
    for f in findings:
        if f["type"] == "result" and "(replication of idea-" in f["title"]:
            idea = f["title"].split("(replication of ")[1].split(" ")[0]
            first = [g for g in findings if g["agent"] == f["agent"] and g["type"] == "result"
                     and g["title"].startswith(f"{idea}:")]
            assert [g["snapshot_id"] for g in first] == [f["snapshot_id"]], (f, first)

    # audit logs are complete: every evaluation and every finding on the server has its tool call
    for name in ("alice", "bob"):
        audit = _audit(run_dir, name)
        evals = [e for e in audit if e["tool"] == "evaluate" and e["ok"]]
        shares = [e for e in audit if e["tool"] == "share_finding" and e["ok"]]
        assert len(evals) == len([s for s in subs if s["agent"] == name])
        assert len(shares) == len([f for f in findings if f["agent"] == name])
        assert {e["args"]["idea"] for e in evals} == {s["idea"] for s in subs if s["agent"] == name}
        runs = [e for e in audit if e["tool"] == "bash" and "aarlab.w2s.run_idea" in e["args"]["command"]]
        assert len(runs) == 3 and all(e["ok"] for e in runs)
    # snapshots unpack to idea folders
    data = admin.download_snapshot(next(iter(s for s in snaps if s)), tmp_path / "one")
    assert (Path(data) / "run.py").exists()
