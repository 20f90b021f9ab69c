"""`aar agents add NAME`: register an agent (e.g. a seat for an MCP client) with a run's server.

Needs the admin token: $AAR_ADMIN_TOKEN, else RUN_DIR/admin_token. The new token is written once to
RUN_DIR/agents/NAME/token (0600), where `aar mcp` and `aar mcp config` find it; it is printed (stdout) only
with --print-token or when there is no run dir to keep it in. Only typer and the stdlib at module level.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

agents_app = typer.Typer(help="Agents of a run (admin).", add_completion=False, no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"aar agents: {message}", err=True)
    return typer.Exit(1)


@agents_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="The agent's name (letters, digits, - and _).")],
    run_dir: Annotated[
        Path | None,
        typer.Option("--run-dir", help="The run (server.json, admin_token). Relative to the cwd."),
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="Server URL (default: from the run dir).")] = None,
    direction: Annotated[
        str | None, typer.Option("--direction", help="The research direction its briefing names.")
    ] = None,
    new_token: Annotated[
        bool, typer.Option("--new-token", help="The agent exists: issue it a fresh token instead.")
    ] = False,
    print_token: Annotated[
        bool, typer.Option("--print-token", help="Also print the token (stdout).")
    ] = False,
) -> None:
    """Create agent NAME on the server and store its token for `aar mcp`."""
    from aar.agents.mcp.seat import SeatError, server_location
    from aar.agents.tokens import write_token
    from aarlab.client import AarClient, AarClientError

    run_dir = run_dir.expanduser().resolve() if run_dir else None
    admin_token = os.environ.get("AAR_ADMIN_TOKEN", "").strip()
    if not admin_token and run_dir is not None and (run_dir / "admin_token").exists():
        admin_token = (run_dir / "admin_token").read_text().strip()
    if not admin_token:
        raise _fail("no admin token: set AAR_ADMIN_TOKEN or give --run-dir of a run (RUN_DIR/admin_token)")
    try:
        where_url, where_uds = server_location(run_dir, url, None)
    except SeatError as e:
        raise _fail(str(e)) from None
    with AarClient(
        None if where_uds else where_url, uds=str(where_uds) if where_uds else None, token=admin_token
    ) as admin:
        try:
            row = admin.agent_token(name) if new_token else admin.create_agent(name, direction)
        except AarClientError as e:
            if e.status == 409:
                raise _fail(f"agent {name!r} exists; --new-token issues it a fresh token") from None
            if e.status == 404 and new_token:
                raise _fail(f"no agent {name!r} (drop --new-token to create it)") from None
            raise _fail(f"the server refused ({e.status}): {e.detail}") from None
    token = str(row["token"])
    if run_dir is not None:
        path = write_token(run_dir, name, token)
        typer.echo(f"agent {name}: token written to {path} (0600)", err=True)
        typer.echo(f"next: aar mcp config --agent {name} --run-dir {run_dir} --out SEAT_FOLDER", err=True)
    if print_token or run_dir is None:
        typer.echo(token)
