"""`aar mcp`: the command line of the MCP server (`aar.agents.mcp_server`, imported only when it runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aar.cli_errors import CliError

TRANSPORTS = ("stdio", "http")
SANDBOXES = ("bwrap", "docker", "none")


def mcp_cmd(
    agent_token: Annotated[str, typer.Option("--agent-token", help="The agent's server token.")],
    workspace: Annotated[Path, typer.Option("--workspace", help="The agent's writable folder.")],
    url: Annotated[str | None, typer.Option("--url", help="Server URL (http://host:port).")] = None,
    uds: Annotated[
        Path | None, typer.Option("--uds", help="Server Unix socket (bound into the sandbox).")
    ] = None,
    transport: Annotated[str, typer.Option("--transport", help="stdio | http")] = "stdio",
    port: Annotated[int, typer.Option("--port", help="Port for --transport http.", min=0, max=65535)] = 8765,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    task: Annotated[str | None, typer.Option("--task", help="Default task (else the first one).")] = None,
    sandbox: Annotated[str, typer.Option("--sandbox", help="bwrap | docker | none")] = "bwrap",
    ro_bind: Annotated[
        list[Path] | None, typer.Option("--ro-bind", help="Read-only dir (repeatable).")
    ] = None,
    audit: Annotated[
        Path | None, typer.Option("--audit", help="Audit log (default WORKSPACE/../audit.jsonl).")
    ] = None,
    unsafe_no_sandbox: Annotated[bool, typer.Option("--unsafe-no-sandbox")] = False,
) -> None:
    """Serve the agent tool set over MCP."""
    if url is None and uds is None:
        raise CliError("give --url or --uds")
    if transport not in TRANSPORTS:
        raise CliError(f"--transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
    if sandbox not in SANDBOXES:
        raise CliError(f"--sandbox must be one of {', '.join(SANDBOXES)}, not {sandbox!r}")
    if sandbox == "none" and not unsafe_no_sandbox:
        raise CliError("--sandbox none runs agent commands unconfined: add --unsafe-no-sandbox to mean it")
    if not workspace.is_dir():
        raise CliError(f"--workspace {workspace}: no such folder")
    for d in ro_bind or []:
        if not d.exists():
            raise CliError(f"--ro-bind {d}: no such file or folder")

    import anyio

    from aar.agents import mcp_server
    from aar.sandbox import SandboxError

    try:
        tools = mcp_server.make_toolset(
            agent_token, url, uds, workspace, task, sandbox, list(ro_bind or []), audit, unsafe_no_sandbox
        )
    except SandboxError as e:
        raise CliError(f"sandbox {sandbox}: {e}") from e
    server = mcp_server.build_mcp_server(tools)
    if transport == "stdio":
        anyio.run(mcp_server.serve_stdio, server)
    else:
        mcp_server.serve_http(server, host, port)
