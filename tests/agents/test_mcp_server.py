"""`aar mcp` over stdio and streamable HTTP, driven by the MCP SDK's own client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_helpers import ServerProc, write_task  # noqa: E402

AAR = str(Path(sys.executable).parent / "aar")
TOOLS = {
    "bash",
    "read_file",
    "write_file",
    "edit_file",
    "list_files",
    "evaluate",
    "share_finding",
    "read_forum",
    "search_forum",
    "leaderboard",
    "download_snapshot",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    tasks = tmp_path_factory.mktemp("tasks")
    write_task(tasks, "alpha", 20, seed=5)
    srv = ServerProc(tmp_path_factory.mktemp("run"), tasks, ["--budget", "100"]).start()
    yield srv
    srv.stop()


def _args(server: ServerProc, tmp_path: Path, name: str) -> tuple[list[str], Path]:
    with server.client() as admin:
        token = admin.create_agent(name)["token"]
    ws = tmp_path / name / "workspace"
    ws.mkdir(parents=True)
    return ["mcp", "--agent-token", token, "--uds", server.uds, "--workspace", str(ws), "--task", "alpha"], ws


def _text(res) -> str:  # noqa: ANN001
    return "".join(c.text for c in res.content if getattr(c, "type", "") == "text")


async def _session_checks(session: ClientSession, ws: Path) -> None:
    await session.initialize()
    listed = await session.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    bash = next(t for t in listed.tools if t.name == "bash")
    assert bash.input_schema["required"] == ["command"]

    w = await session.call_tool("write_file", {"path": "notes/plan.md", "content": "try filtering\n"})
    assert not w.is_error, _text(w)
    assert (ws / "notes/plan.md").read_text() == "try filtering\n"
    r = await session.call_tool("read_file", {"path": "notes/plan.md"})
    assert _text(r) == "try filtering\n"
    b = await session.call_tool("bash", {"command": "wc -c < notes/plan.md; echo $AAR_SERVER_UDS"})
    assert not b.is_error and "14" in _text(b), _text(b)
    out = await session.call_tool("read_file", {"path": "../../../etc/passwd"})
    assert out.is_error and "outside the workspace" in _text(out)
    lb = await session.call_tool("leaderboard", {})
    assert not lb.is_error, _text(lb)
    assert isinstance(lb.structured_content["rows"], list)
    f = await session.call_tool(
        "share_finding",
        {"title": "mcp hello", "body": "from an MCP client", "type": "hypothesis", "idea_dir": "notes"},
    )
    assert not f.is_error, _text(f)
    assert len(f.structured_content["snapshot_id"]) == 64


def _audit_tools(ws: Path) -> list[str]:
    return [json.loads(x)["tool"] for x in (ws.parent / "audit.jsonl").read_text().splitlines()]


EXPECTED = ["write_file", "read_file", "bash", "read_file", "leaderboard", "share_finding"]


def test_stdio(server: ServerProc, tmp_path: Path) -> None:
    args, ws = _args(server, tmp_path, "mcp-stdio")

    async def main() -> None:
        params = StdioServerParameters(command=AAR, args=args)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await _session_checks(session, ws)

    anyio.run(main)
    assert _audit_tools(ws) == EXPECTED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamable_http(server: ServerProc, tmp_path: Path) -> None:
    args, ws = _args(server, tmp_path, "mcp-http")
    port = _free_port()
    proc = subprocess.Popen(
        [AAR, *args, "--transport", "http", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        async def main() -> None:
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await _session_checks(session, ws)

        anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(10)
    assert _audit_tools(ws) == EXPECTED
