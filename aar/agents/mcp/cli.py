"""`aar mcp` (serve a researcher seat over MCP) and `aar mcp config` (a client config for it).

Only typer and the standard library at module level: `import aar.cli` stays light.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

mcp_app = typer.Typer(
    help="A researcher seat for any MCP client (Claude Code, Codex CLI, ...): the agent tool set in a "
    "research sandbox, the briefing as prompts and resources. The agent token comes from $AAR_AGENT_TOKEN.",
    add_completion=False,
)

RunDir = Annotated[
    Path | None, typer.Option("--run-dir", help="The run (server.json, agents/<name>/). Relative to the cwd.")
]
Agent = Annotated[str | None, typer.Option("--agent", help="Agent name (checked against the token).")]
Url = Annotated[str | None, typer.Option("--url", help="Server URL (sandboxed commands get a socket relay).")]
Task = Annotated[str | None, typer.Option("--task", help="Task (default: the first one the server lists).")]
TasksDir = Annotated[
    Path | None, typer.Option("--tasks-dir", help="Tasks root (default: the run's, else the cache).")
]
SandboxKind = Annotated[str, typer.Option("--sandbox", help="bwrap | docker | none")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"aar mcp: {message}", err=True)
    return typer.Exit(1)


@mcp_app.callback(invoke_without_command=True)
def mcp_cmd(
    ctx: typer.Context,
    run_dir: RunDir = None,
    agent: Agent = None,
    url: Url = None,
    uds: Annotated[
        Path | None, typer.Option("--uds", help="Server Unix socket (default: the run's).")
    ] = None,
    agent_dir: Annotated[
        Path | None, typer.Option("--agent-dir", help="Workspace/audit folder (default RUN_DIR/agents/NAME).")
    ] = None,
    task: Task = None,
    tasks_dir: TasksDir = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="The task's public dir (default TASKS/<task>/main/public)."),
    ] = None,
    sandbox: SandboxKind = "bwrap",
    unsafe_no_sandbox: Annotated[
        bool, typer.Option("--unsafe-no-sandbox", help="Allow --sandbox none (debugging only).")
    ] = False,
    transport: Annotated[str, typer.Option("--transport", help="stdio | http")] = "stdio",
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port for --transport http.")] = 8765,
) -> None:
    """Serve the seat of the agent whose token is in $AAR_AGENT_TOKEN (stdio, or HTTP at /mcp)."""
    if ctx.invoked_subcommand is not None:
        return
    if transport not in ("stdio", "http"):
        raise _fail("--transport must be stdio or http")
    if sandbox not in ("bwrap", "docker", "none"):
        raise _fail("--sandbox must be bwrap, docker or none")
    if sandbox == "none" and not unsafe_no_sandbox:
        raise _fail("--sandbox none runs commands on the host; it needs --unsafe-no-sandbox")
    from aar.agents.mcp.seat import SeatError, SeatOptions
    from aar.agents.mcp.serve import serve_seat

    opts = SeatOptions(
        run_dir=run_dir,
        agent=agent,
        agent_dir=agent_dir,
        url=url,
        uds=uds,
        task=task,
        tasks_dir=tasks_dir,
        data_dir=data_dir,
        sandbox=sandbox,
    )
    try:
        serve_seat(opts, transport=transport, host=host, port=port)
    except SeatError as e:
        raise _fail(str(e)) from None


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


@mcp_app.command("config")
def config_cmd(
    agent: Annotated[str, typer.Option("--agent", help="The agent (made with `aar agents add NAME`).")],
    run_dir: RunDir = None,
    url: Url = None,
    task: Task = None,
    tasks_dir: TasksDir = None,
    sandbox: Annotated[str | None, typer.Option("--sandbox", help="bwrap | docker (default bwrap)")] = None,
    server: Annotated[str, typer.Option("--name", help="The server's name in the client.")] = "aar",
    fmt: Annotated[
        str, typer.Option("--format", help="mcp-json (.mcp.json, any client) | claude-settings")
    ] = "mcp-json",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write a Claude Code seat folder (.mcp.json 0600, .claude/settings.json)."
        ),
    ] = None,
    token_ref: Annotated[
        bool, typer.Option("--token-ref", help="Put ${AAR_AGENT_TOKEN} in the config instead of the token.")
    ] = False,
) -> None:
    """Print the MCP client config of a seat: its env carries AAR_AGENT_TOKEN; Claude Code settings allow
    only the `aar` tools (its own shell, file and web tools would run on the host, outside the sandbox)."""
    from aar.agents.mcp.client_config import TOKEN_REF, claude_command, claude_settings, mcp_json, seat_args
    from aar.agents.tokens import read_token, token_path

    if fmt not in ("mcp-json", "claude-settings"):
        raise _fail("--format must be mcp-json or claude-settings")
    if run_dir is None and url is None:
        raise _fail("give --run-dir (or --url for a server elsewhere)")
    token = TOKEN_REF if token_ref else (read_token(run_dir, agent) if run_dir else None)
    token = token or os.environ.get("AAR_AGENT_TOKEN")
    if not token:
        where = token_path(run_dir, agent) if run_dir else "$AAR_AGENT_TOKEN"
        raise _fail(
            f"no token for {agent!r} at {where}: run `aar agents add {agent}` first (or use --token-ref)"
        )
    exe = Path(sys.executable).parent / "aar"
    command = str(exe) if exe.exists() else shutil.which("aar")
    if command is None:
        raise _fail("cannot find the `aar` executable to put in the config")
    args = seat_args(run_dir=run_dir, agent=agent, url=url, task=task, tasks_dir=tasks_dir, sandbox=sandbox)
    mcp = json.dumps(mcp_json(server, command, args, token), indent=2) + "\n"
    settings = json.dumps(claude_settings(server), indent=2) + "\n"
    if out is None:
        typer.echo(mcp if fmt == "mcp-json" else settings, nl=False)
        return
    folder = out.expanduser().resolve()
    _write_private(folder / ".mcp.json", mcp)
    (folder / ".claude").mkdir(parents=True, exist_ok=True)
    (folder / ".claude" / "settings.json").write_text(settings)
    typer.echo(
        f"wrote {folder / '.mcp.json'} (0600: it holds the token) and {folder / '.claude/settings.json'}"
    )
    typer.echo(f"start Claude Code there with only the aar tools:\n  cd {folder} && {claude_command(server)}")
