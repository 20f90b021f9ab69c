"""File and bash tools: confined to the workspace, every call audited (no server needed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aar.agents.audit import AuditLog
from aar.agents.tools import ToolSet
from aar.sandbox import Limits, SandboxSpec, make_sandbox

LIMITS = Limits(cpu_seconds=20, memory_mb=512, max_procs=32, wall_seconds=10, disk_mb=16, tmp_mb=8)


@pytest.fixture()
def tools(tmp_path: Path) -> ToolSet:
    ws, data = tmp_path / "agents" / "a1" / "workspace", tmp_path / "public"
    ws.mkdir(parents=True)
    data.mkdir()
    (data / "meta.json").write_text('{"task": "math"}')
    (tmp_path / "private.json").write_text("SECRET-LABELS")
    sb = make_sandbox("bwrap", SandboxSpec(ws, [data], None, LIMITS))
    return ToolSet(sb, None, ws, AuditLog(tmp_path / "agents" / "a1" / "audit.jsonl", "a1"), "math")


def test_write_read_edit_list(tools: ToolSet) -> None:
    assert tools.call("write_file", {"path": "idea/run.py", "content": "x = 1\ny = 2\n"}).ok
    assert tools.call("read_file", {"path": "idea/run.py"}).output == "x = 1\ny = 2\n"
    assert tools.call("read_file", {"path": "idea/run.py", "offset": 2, "limit": 1}).output == "y = 2\n"
    assert tools.call("edit_file", {"path": "idea/run.py", "old": "x = 1", "new": "x = 10"}).ok
    assert (tools.workspace / "idea/run.py").read_text() == "x = 10\ny = 2\n"
    missing = tools.call("edit_file", {"path": "idea/run.py", "old": "zzz", "new": "q"})
    assert not missing.ok and "not found" in missing.output
    tools.call("write_file", {"path": "dup.txt", "content": "a a a"})
    assert "3 times" in tools.call("edit_file", {"path": "dup.txt", "old": "a", "new": "b"}).output
    assert tools.call("edit_file", {"path": "dup.txt", "old": "a", "new": "b", "replace_all": True}).ok
    assert (tools.workspace / "dup.txt").read_text() == "b b b"
    listing = tools.call("list_files", {"recursive": True}).output
    assert "idea/" in listing and "idea/run.py" in listing
    data_dir = tools.read_roots[0]
    assert tools.call("read_file", {"path": str(data_dir / "meta.json")}).output == '{"task": "math"}'


@pytest.mark.parametrize(
    "path",
    ["../private.json", "/etc/passwd", "idea/../../private.json", "link_out/private.json", "link_file"],
)
def test_paths_outside_the_workspace_are_refused(tools: ToolSet, path: str) -> None:
    outside = tools.workspace.parents[2]
    os.symlink(outside, tools.workspace / "link_out")
    os.symlink(outside / "private.json", tools.workspace / "link_file")
    for name, args in (
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "pwned"}),
        ("edit_file", {"path": path, "old": "SECRET", "new": "x"}),
    ):
        res = tools.call(name, args)
        assert not res.ok and "outside the workspace" in res.output, (name, res.output)
    assert (outside / "private.json").read_text() == "SECRET-LABELS"
    assert not tools.call("write_file", {"path": str(tools.read_roots[0] / "meta.json"), "content": "x"}).ok


def test_bash_runs_in_the_sandbox(tools: ToolSet) -> None:
    res = tools.call(
        "bash", {"command": f"echo hi > made.txt; cat {tools.workspace.parents[2]}/private.json"}
    )
    assert not res.ok and "exit code 1" in res.output and "SECRET" not in res.output
    assert (tools.workspace / "made.txt").read_text() == "hi\n"
    slow = tools.call("bash", {"command": "sleep 20", "timeout": 0.5})
    assert not slow.ok and slow.data and slow.data["timed_out"]


def test_every_call_is_audited_and_trimmed(tools: ToolSet) -> None:
    tools.call("write_file", {"path": "big.txt", "content": "x" * 50_000})
    tools.call("read_file", {"path": "big.txt"})
    tools.call("read_file", {"path": "../nope"})
    tools.call("nonexistent_tool", {})
    tools.call("evaluate", {"predictions": [1, 0]})  # no client: a clean failure, still audited
    lines = [json.loads(x) for x in tools.audit.path.read_text().splitlines()]
    assert [e["tool"] for e in lines] == [
        "write_file",
        "read_file",
        "read_file",
        "nonexistent_tool",
        "evaluate",
    ]
    assert [e["ok"] for e in lines] == [True, True, False, False, False]
    for e in lines:
        assert set(e) == {"t", "agent", "tool", "args", "ok", "output", "seconds"} and e["agent"] == "a1"
    assert len(lines[0]["args"]["content"]) < 2100 and "trimmed" in lines[0]["args"]["content"]
    assert len(lines[1]["output"]) < 4100
