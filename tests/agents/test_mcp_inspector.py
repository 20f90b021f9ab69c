"""The config `aar mcp config` prints, loaded by the MCP Inspector CLI (npm
`@modelcontextprotocol/inspector-cli` 0.15, pinned with its lock file in tests/mcp_inspector; `npm ci`
installs it on first use): the seat it starts lists described tools, prompts and resources, runs a
command in the sandbox and answers tool errors."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import AAR, TOOLS, add_agent
from server_helpers import REPO, ServerProc, write_task

INSPECTOR_DIR = REPO / "tests" / "mcp_inspector"
INSPECTOR = INSPECTOR_DIR / "node_modules" / ".bin" / "mcp-inspector-cli"
DIRECTION = "Bootstrap the weak labels with the strong model's own confident predictions."


@pytest.fixture(scope="module")
def inspector() -> Path:
    if (
        not INSPECTOR.exists()
    ):  # scripts/setup.sh installs it; a bare checkout gets it here (npm registry only)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(INSPECTOR_DIR)],
            check=True,
            timeout=600,
            capture_output=True,
        )
    return INSPECTOR


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    tasks = tmp_path_factory.mktemp("tasks")
    write_task(tasks, "alpha", 20, seed=7)
    srv = ServerProc(tmp_path_factory.mktemp("run"), tasks, ["--budget", "100"]).start()
    yield srv
    srv.stop()


def _config(server: ServerProc, *extra: str) -> subprocess.CompletedProcess:
    args = ["mcp", "config", "--agent", "claude-seat", "--run-dir", str(server.run_dir)]
    args += ["--tasks-dir", str(server.tasks_dir), "--task", "alpha", *extra]
    cp = subprocess.run([AAR, *args], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    return cp


def test_printed_config_loads_in_the_inspector(server: ServerProc, inspector: Path, tmp_path: Path) -> None:
    token = add_agent(server, "claude-seat", DIRECTION)
    seat = tmp_path / "seat"
    made = _config(server, "--out", str(seat))
    assert "claude --strict-mcp-config --mcp-config .mcp.json --tools ''" in made.stdout
    mcp_json = seat / ".mcp.json"
    assert mcp_json.stat().st_mode & 0o777 == 0o600
    config = json.loads(mcp_json.read_text())
    entry = config["mcpServers"]["aar"]
    assert entry["type"] == "stdio" and entry["env"] == {"AAR_AGENT_TOKEN": token}
    assert token not in json.dumps(entry["args"]) and Path(entry["command"]).name == "aar"

    settings = json.loads((seat / ".claude" / "settings.json").read_text())
    perms = settings["permissions"]
    assert perms["defaultMode"] == "dontAsk" and "mcp__aar" in perms["allow"]
    assert {"Bash", "Read", "Write", "Edit", "WebFetch", "WebSearch", "Glob", "Grep", "Agent"} <= set(
        perms["deny"]
    )
    assert not [rule for rule in perms["allow"] if not rule.startswith(("mcp__aar", "ListMcp", "ReadMcp"))]
    ref = json.loads(_config(server, "--token-ref").stdout)  # Claude Code expands ${VAR} in .mcp.json
    assert ref["mcpServers"]["aar"]["env"] == {"AAR_AGENT_TOKEN": "${AAR_AGENT_TOKEN}"}

    env = {k: v for k, v in os.environ.items() if not k.startswith("AAR_")}  # the token comes from the config

    def inspect(method: str, *extra: str) -> dict:
        argv = [
            str(inspector),
            "--cli",
            "--config",
            str(mcp_json),
            "--server",
            "aar",
            "--method",
            method,
            *extra,
        ]
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=seat)
        assert cp.returncode == 0, cp.stderr + cp.stdout
        return json.loads(cp.stdout)

    tools = inspect("tools/list")["tools"]
    assert {t["name"] for t in tools} == TOOLS
    for t in tools:
        assert t["inputSchema"]["additionalProperties"] is False and t["outputSchema"]["type"] == "object"
        assert all(p.get("description") for p in t["inputSchema"]["properties"].values()), t["name"]
    assert next(t for t in tools if t["name"] == "leaderboard")["annotations"]["readOnlyHint"] is True

    assert {p["name"] for p in inspect("prompts/list")["prompts"]} == {"briefing", "resume"}
    briefing = inspect("prompts/get", "--prompt-name", "briefing")["messages"][0]["content"]["text"]
    assert DIRECTION in briefing and "Task: `alpha`" in briefing
    uris = {r["uri"] for r in inspect("resources/list")["resources"]}
    assert {
        "aar://briefing",
        "aar://notebook",
        "aar://data/meta.json",
        "aar://data/train_label.jsonl",
    } <= uris
    meta = inspect("resources/read", "--uri", "aar://data/meta.json")["contents"][0]["text"]
    assert json.loads(meta)["task"] == "alpha"

    ran = inspect(
        "tools/call", "--tool-name", "bash", "--tool-arg", "command=head -c 40 /aar/data/meta.json; pwd"
    )
    assert not ran.get("isError") and ran["structuredContent"]["returncode"] == 0
    assert "/workspace" in ran["content"][0]["text"]
    outside = inspect("tools/call", "--tool-name", "read_file", "--tool-arg", "path=../../../etc/passwd")
    assert outside["isError"] is True and "outside the workspace" in outside["content"][0]["text"]
    audit = (server.run_dir / "agents" / "claude-seat" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(x)["tool"] for x in audit] == ["bash", "read_file"]
