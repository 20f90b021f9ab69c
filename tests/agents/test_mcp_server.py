"""`aar mcp`, the researcher seat, driven by the MCP SDK's own client over stdio and streamable HTTP:
described tools, prompts and resources carrying the llm agent's briefing, the staged data, tool errors,
a cancellation that kills the sandboxed command, and one-line refusals before anything is served."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_helpers import AAR, TOOLS, add_agent, processes_with, seat_args, seat_env, wait_for
from server_helpers import ServerProc, write_task

from aar.agents.llm.prompt import library_docs
from aar.sandbox.quota import is_mountpoint

DIRECTION = "Try confidence-weighted losses on the weak labels."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    tasks = tmp_path_factory.mktemp("tasks")
    write_task(tasks, "alpha", 20, seed=5)
    srv = ServerProc(tmp_path_factory.mktemp("run"), tasks, ["--budget", "100"]).start()
    yield srv
    srv.stop()


def _text(res) -> str:  # noqa: ANN001
    return "".join(c.text for c in res.content if getattr(c, "type", "") == "text")


async def _listing_checks(session: ClientSession) -> None:
    listed = await session.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    for t in listed.tools:
        assert t.input_schema["additionalProperties"] is False, t.name
        for prop, schema in t.input_schema["properties"].items():
            assert schema.get("description"), f"{t.name}.{prop} has no description"
        assert t.output_schema and t.output_schema["type"] == "object", t.name
    by = {t.name: t for t in listed.tools}
    assert by["read_file"].annotations.read_only_hint is True
    assert by["bash"].annotations.destructive_hint is True and by["bash"].annotations.read_only_hint is False
    assert by["bash"].input_schema["required"] == ["command"]
    assert (await session.list_prompts()).prompts and {
        p.name for p in (await session.list_prompts()).prompts
    } == {"briefing", "resume"}


async def _briefing_checks(session: ClientSession, ws: Path) -> None:
    resume = await session.get_prompt("resume")
    text = resume.messages[0].content.text
    assert "Task: `alpha`" in text and DIRECTION in text and "`/aar/data`" in text and "`/workspace`" in text
    assert library_docs() in text, "the library docs reach the client"
    assert "<notebook>" in text and (ws / "NOTEBOOK.md").exists()
    briefing = (await session.get_prompt("briefing")).messages[0].content.text
    assert "<notebook>" not in briefing and "Use only its tools" in briefing

    uris = {str(r.uri) for r in (await session.list_resources()).resources}
    assert {
        "aar://briefing",
        "aar://docs/library",
        "aar://notebook",
        "aar://data/meta.json",
        "aar://data/test.jsonl",
        "aar://data/weak/seed0.json",
    } <= uris
    meta = json.loads((await session.read_resource("aar://data/meta.json")).contents[0].text)
    assert meta["task"] == "alpha" and "draw" not in meta  # the neutral staged view
    weak = json.loads((await session.read_resource("aar://data/weak/seed0.json")).contents[0].text)
    assert set(weak) == {"seed", "train_unlabel"}  # no weak accuracy measured on hidden labels
    docs = await session.read_resource("aar://docs/library")
    assert docs.contents[0].text == library_docs()


async def _tool_checks(session: ClientSession, ws: Path, name: str) -> None:
    w = await session.call_tool("write_file", {"path": "notes/plan.md", "content": "try filtering\n"})
    assert not w.is_error, _text(w)
    assert (ws / "notes/plan.md").read_text() == "try filtering\n"
    assert w.structured_content == {"path": "notes/plan.md", "chars": 14}
    r = await session.call_tool("read_file", {"path": "/aar/data/meta.json"})
    assert not r.is_error and '"alpha"' in _text(r)
    code = "from aarlab.client import AarClient; print(AarClient.from_env().me()['name'])"
    b = await session.call_tool(
        "bash", {"command": f'wc -c < notes/plan.md; ls /aar/data; python -c "{code}"'}
    )
    assert not b.is_error and "14" in _text(b) and "test.jsonl" in _text(b) and name in _text(b), _text(b)
    assert b.structured_content["returncode"] == 0
    out = await session.call_tool("read_file", {"path": "../../../etc/passwd"})
    assert out.is_error and "outside the workspace" in _text(out)
    bad = await session.call_tool("bash", {"cmd": "ls"})
    assert bad.is_error and "unknown argument(s) 'cmd'" in _text(bad)
    lb = await session.call_tool("leaderboard", {})
    assert not lb.is_error and isinstance(lb.structured_content["rows"], list), _text(lb)
    f = await session.call_tool(
        "share_finding",
        {"title": "mcp hello", "body": "from an MCP client", "type": "hypothesis", "idea_dir": "notes"},
    )
    assert not f.is_error, _text(f)
    assert len(f.structured_content["snapshot_id"]) == 64


async def _cancel_checks(session: ClientSession, ws: Path) -> None:
    marker = "sleep 417.5"
    async with anyio.create_task_group() as tg:
        tg.start_soon(session.call_tool, "bash", {"command": f"touch started; {marker}"})
        with anyio.fail_after(30):
            while not (ws / "started").exists():
                await anyio.sleep(0.05)
        assert processes_with(marker), "the sandboxed command is running"
        tg.cancel_scope.cancel()  # the SDK sends notifications/cancelled for the abandoned call
    with anyio.fail_after(15):
        while processes_with(marker):
            await anyio.sleep(0.1)
    after = await session.call_tool("bash", {"command": "echo still here"})
    assert not after.is_error and "still here" in _text(after)


def _audit(ws: Path) -> list[dict]:
    return [json.loads(x) for x in (ws.parent / "audit.jsonl").read_text().splitlines()]


def test_stdio_seat(server: ServerProc, tmp_path: Path) -> None:
    token = add_agent(server, "seat-stdio", DIRECTION)
    ws = server.run_dir / "agents" / "seat-stdio" / "workspace"

    async def main() -> None:
        params = StdioServerParameters(command=AAR, args=seat_args(server, "seat-stdio"), env=seat_env(token))
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            init = await session.initialize()
            assert "seat-stdio" in (init.instructions or "") and len(init.instructions or "") < 2000
            await _listing_checks(session)
            await _briefing_checks(session, ws)
            await _tool_checks(session, ws, "seat-stdio")
            await _cancel_checks(session, ws)

    anyio.run(main)
    rows = _audit(ws)
    cancelled = [r for r in rows if r["tool"] == "bash" and "417.5" in r["args"].get("command", "")]
    assert len(cancelled) == 1 and not cancelled[0]["ok"] and "killed: cancelled" in cancelled[0]["output"]
    assert token not in (ws.parent / "audit.jsonl").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamable_http_needs_the_token(server: ServerProc, tmp_path: Path) -> None:
    token = add_agent(server, "seat-http")
    ws = server.run_dir / "agents" / "seat-http" / "workspace"
    port = _free_port()
    proc = subprocess.Popen(
        [AAR, *seat_args(server, "seat-http", "--transport", "http", "--port", str(port))],
        env=seat_env(token),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def up() -> bool:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_for(up, 60, "the HTTP seat")
        url = f"http://127.0.0.1:{port}/mcp"
        assert httpx.post(url, json={}).status_code == 401
        assert httpx.post(url, json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401

        async def main() -> None:
            client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            async with client, streamable_http_client(url, http_client=client) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await session.initialize()
                    await _listing_checks(session)
                    await _tool_checks(session, ws, "seat-http")

        anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(10)
    assert [r["tool"] for r in _audit(ws)][:3] == ["write_file", "read_file", "bash"]
    assert not is_mountpoint(ws)  # a terminated seat unmounts its hard-quota workspace volume


def test_url_mode_gives_sandboxed_commands_the_server(server: ServerProc, tmp_path: Path) -> None:
    """With --url (no socket), `aar mcp` relays a Unix socket at /aar/server.sock to the URL."""
    token = add_agent(server, "seat-url")
    agent_dir = tmp_path / "seat"
    args = ["mcp", "--url", server.url, "--agent-dir", str(agent_dir), "--tasks-dir", str(server.tasks_dir)]
    me = (
        "from aarlab.client import AarClient; c = AarClient.from_env(); "
        "print(c.me()['name'], c.tasks()[0]['task'])"
    )
    odd = (
        "import httpx, os; t = httpx.HTTPTransport(uds=os.environ['AAR_SERVER_UDS']); "
        "r = httpx.Client(transport=t).get('http://x//127.0.0.2:1/api/health'); "
        "print('status', r.status_code)"
    )

    async def main() -> None:
        params = StdioServerParameters(command=AAR, args=args, env=seat_env(token))
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            b = await session.call_tool("bash", {"command": f'echo $AAR_SERVER_UDS; python -c "{me}"'})
            assert not b.is_error and "/aar/server.sock" in _text(b) and "seat-url alpha" in _text(b), _text(
                b
            )
            # a path naming another host still reaches the one server (its 404), never another address
            o = await session.call_tool("bash", {"command": f'python -c "{odd}"'})
            assert "status 404" in _text(o), _text(o)
            f = await session.call_tool(
                "share_finding", {"title": "via relay", "body": "b", "type": "insight", "idea_dir": "."}
            )
            assert not f.is_error, _text(f)

    anyio.run(main)
    with server.client() as admin:
        assert any(x["title"] == "via relay" and x["agent"] == "seat-url" for x in admin.findings())


def _refusal(args: list[str], env: dict[str, str]) -> str:
    t0 = time.monotonic()
    cp = subprocess.run([AAR, *args], env=env, capture_output=True, text=True, timeout=120)
    assert cp.returncode == 1 and cp.stdout == "", (cp.returncode, cp.stdout, cp.stderr)
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1, cp.stderr
    assert time.monotonic() - t0 < 60
    return lines[0]


def test_refusals_are_one_line(server: ServerProc, tmp_path: Path) -> None:
    token = add_agent(server, "seat-refuse")
    args = seat_args(server, "seat-refuse")
    path = {"PATH": seat_env(token)["PATH"]}
    assert "refused the agent token (401" in _refusal(args, {**path, "AAR_AGENT_TOKEN": "aar_agent_wrong"})
    assert "admin token" in _refusal(args, {**path, "AAR_AGENT_TOKEN": server.admin_token()})
    assert "belongs to agent 'seat-refuse'" in _refusal(
        [*seat_args(server, "someone-else")], {**path, "AAR_AGENT_TOKEN": token}
    )
    assert "no agent token" in _refusal(["mcp", "--run-dir", str(tmp_path)], path)
    assert "no server in" in _refusal(["mcp", "--run-dir", str(tmp_path)], {**path, "AAR_AGENT_TOKEN": token})
    assert "cannot reach the server" in _refusal(
        ["mcp", "--url", "http://127.0.0.1:9", "--agent-dir", str(tmp_path)],
        {**path, "AAR_AGENT_TOKEN": token},
    )
    assert "no public data for task 'alpha'" in _refusal(
        [*args[:-4], "--tasks-dir", str(tmp_path)], {**path, "AAR_AGENT_TOKEN": token}
    )
    assert "needs --unsafe-no-sandbox" in _refusal(
        [*args, "--sandbox", "none"], {**path, "AAR_AGENT_TOKEN": token}
    )


def test_an_unusable_sandbox_stops_the_seat(server: ServerProc, tmp_path: Path) -> None:
    token = add_agent(server, "seat-nobwrap")
    args = seat_args(server, "seat-nobwrap")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    line = _refusal(args, {"PATH": str(empty), "AAR_AGENT_TOKEN": token})
    assert "the bwrap sandbox is unusable here: bubblewrap (bwrap) is not installed" in line
    # a bwrap that cannot set up its namespaces (as on kernels without unprivileged user namespaces)
    # (in a folder the unprivileged sandbox user can reach: bwrap is started as that user)
    broken = Path(tempfile.mkdtemp(prefix="aar-broken-bin-"))
    broken.chmod(0o755)
    fake = broken / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    try:
        line = _refusal(args, {"PATH": f"{broken}:/usr/bin:/bin", "AAR_AGENT_TOKEN": token})
    finally:
        shutil.rmtree(broken)
    assert line.endswith(
        "the bwrap sandbox cannot run commands here: bwrap: setting up uid map: Permission denied"
    )


def test_agents_add_refuses_a_taken_name_and_reissues_on_request(server: ServerProc) -> None:
    first = add_agent(server, "seat-twice")
    add = ["agents", "add", "seat-twice", "--run-dir", str(server.run_dir)]
    taken = _refusal(add, {"PATH": "/usr/bin:/bin"})
    assert taken == "aar agents: agent 'seat-twice' exists; --new-token issues it a fresh token"
    cp = subprocess.run(
        [AAR, *add, "--new-token", "--print-token"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cp.returncode == 0, cp.stderr
    fresh = cp.stdout.strip()
    assert fresh != first and (server.run_dir / "agents" / "seat-twice" / "token").read_text() == fresh
    with server.client(fresh) as c:
        assert c.me()["name"] == "seat-twice"
