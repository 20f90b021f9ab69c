"""Server-backed tools against a real `aar serve` subprocess; sandboxed code reaches it only by the socket."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aar.agents.audit import AuditLog
from aar.agents.tools import ToolSet
from aar.sandbox import Limits, SandboxSpec, make_sandbox
from aarlab.client import AarClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_helpers import ServerProc, write_task  # noqa: E402

N_TEST = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    tasks = tmp_path_factory.mktemp("tasks")
    write_task(tasks, "alpha", N_TEST, seed=3)
    srv = ServerProc(tmp_path_factory.mktemp("run"), tasks, ["--budget", "100"]).start()
    yield srv
    srv.stop()


def _toolset(server: ServerProc, root: Path, name: str) -> ToolSet:
    with server.client() as admin:
        token = admin.create_agent(name, "confidence filtering")["token"]
    ws = root / name / "workspace"
    ws.mkdir(parents=True)
    public = server.tasks_dir / "alpha" / "main" / "public"
    spec = SandboxSpec(ws, [public], Path(server.uds), Limits(wall_seconds=60, disk_mb=64))
    client = AarClient(server.url, token=token)
    audit = AuditLog(root / name / "audit.jsonl", name)
    return ToolSet(make_sandbox("bwrap", spec), client, ws, audit, "alpha", env={"AAR_AGENT_TOKEN": token})


def test_research_round_trip(server: ServerProc, tmp_path: Path) -> None:
    a, b = _toolset(server, tmp_path, "tool-a"), _toolset(server, tmp_path, "tool-b")
    run_py = "def main(ctx):\n    pass\n"
    assert a.call("write_file", {"path": "ideas/ones/run.py", "content": run_py}).ok
    assert a.call("write_file", {"path": "ideas/ones/config.json", "content": '{"k": 1}'}).ok
    made = a.call(
        "bash",
        {
            "command": f"python -c \"import json; json.dump({{'test': [1] * {N_TEST}}}, "
            "open('ideas/ones/predictions.json', 'w'))\""
        },
    )
    assert made.ok, made.output

    ev = a.call("evaluate", {"predictions_path": "ideas/ones/predictions.json", "idea": "ones"})
    assert ev.ok, ev.output
    assert ev.data and 0.0 <= ev.data["accuracy"] <= 1.0 and "pgr" in ev.data
    shared = a.call(
        "share_finding",
        {
            "title": "all-ones baseline",
            "body": "predict 1 everywhere",
            "idea_dir": "ideas/ones",
            "submission_id": ev.data["submission_id"],
            "metrics": {"pgr": ev.data["pgr"]},
        },
    )
    assert shared.ok, shared.output
    sid = shared.data["snapshot_id"]
    assert sid and len(sid) == 64

    forum = b.call("read_forum", {})
    assert forum.ok and any(f.get("snapshot_id") == sid for f in forum.data["findings"])
    assert any(
        "all-ones" in f["title"] for f in b.call("search_forum", {"query": "baseline"}).data["findings"]
    )
    assert b.call("leaderboard", {}).ok
    got = b.call("download_snapshot", {"snapshot_id": sid, "dest": "imported/ones"})
    assert got.ok, got.output
    assert (b.workspace / "imported/ones/run.py").read_text() == run_py
    assert json.loads((b.workspace / "imported/ones/config.json").read_text()) == {"k": 1}
    bad = b.call("download_snapshot", {"snapshot_id": sid, "dest": "../../escape"})
    assert not bad.ok and "outside the workspace" in bad.output
    bad_eval = b.call("evaluate", {"predictions": [1, 0]})  # wrong length: a 4xx the agent sees
    assert not bad_eval.ok and "error" in bad_eval.output

    inside = a.call(
        "bash",
        {
            "command": "python -c 'from aarlab.client import AarClient; "
            'print(AarClient.from_env().me()["name"])\''
        },
    )
    assert inside.ok and inside.output.strip().endswith("tool-a"), inside.output

    tools_a = [e["tool"] for e in a.audit.entries()]
    assert tools_a == ["write_file", "write_file", "bash", "evaluate", "share_finding", "bash"]
    tools_b = [(e["tool"], e["ok"]) for e in b.audit.entries()]
    assert tools_b == [
        ("read_forum", True),
        ("search_forum", True),
        ("leaderboard", True),
        ("download_snapshot", True),
        ("download_snapshot", False),
        ("evaluate", False),
    ]
