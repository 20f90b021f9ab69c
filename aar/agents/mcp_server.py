"""`aar mcp`: the agent tool set served over the Model Context Protocol (stdio or streamable HTTP).

Any MCP client (Claude Code, Codex CLI, the SDK's own client) can then act as a researcher: its `bash`
runs in the sandbox, file tools stay in the workspace, server tools go through `AarClient` with the
agent's token, and every call lands in the audit log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server

from aar.agents.tools import ToolSet

log = logging.getLogger(__name__)


def build_mcp_server(tools: ToolSet, name: str = "aar") -> Server:
    """A low-level MCP server listing `tools.specs()` and answering calls with `tools.call`."""

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=s.name, description=s.description, input_schema=s.input_schema)
                for s in tools.specs()
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        res = await anyio.to_thread.run_sync(tools.call, params.name, dict(params.arguments or {}))
        structured = json.loads(json.dumps(res.data, default=str)) if isinstance(res.data, dict) else None
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=res.output)],
            structured_content=structured,
            is_error=not res.ok,
        )

    return Server(
        name,
        version="0.1.0",
        instructions="Tools of an aar weak-to-strong researcher.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(server: Server) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_http(server: Server, host: str, port: int) -> None:
    import uvicorn

    app = server.streamable_http_app(host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def make_toolset(
    agent_token: str,
    url: str | None,
    uds: Path | None,
    workspace: Path,
    task: str | None,
    sandbox_kind: str,
    ro_binds: list[Path],
    audit_path: Path | None,
    allow_unsafe: bool,
) -> ToolSet:
    from aar.agents.audit import AuditLog
    from aar.sandbox import Limits, SandboxSpec, make_sandbox
    from aarlab.client import AarClient

    client = AarClient(url, uds=str(uds) if uds else None, token=agent_token)
    try:
        agent = client.me().get("name", "mcp")
    except Exception as e:  # noqa: BLE001 - the file tools still work without a server
        log.warning("server not reachable (%s); server-backed tools will fail until it is", e)
        agent = "mcp"
    if task is None:
        try:
            rows = client.tasks()
            task = (rows[0].get("task") or rows[0].get("name")) if rows else ""
        except Exception:  # noqa: BLE001
            task = ""
    workspace = workspace.resolve()
    spec = SandboxSpec(workspace, ro_binds, uds, Limits())
    sandbox = make_sandbox(sandbox_kind, spec, allow_unsafe=allow_unsafe)
    audit = AuditLog(audit_path or workspace.parent / "audit.jsonl", agent)
    return ToolSet(sandbox, client, workspace, audit, task or "", env={"AAR_AGENT_TOKEN": agent_token})
