"""Open a seat and serve it over stdio or streamable HTTP (the HTTP endpoint asks for the agent's token)."""

from __future__ import annotations

import hmac
import os
import signal
from typing import Any

import anyio

from aar.agents.mcp.content import SeatContent
from aar.agents.mcp.seat import Seat, SeatOptions, agent_token, open_seat
from aar.agents.mcp.server import build_mcp_server
from aar.sandbox.layout import DATA, WORKSPACE


def seat_content(seat: Seat) -> SeatContent:
    sandbox = seat.toolset.sandbox
    return SeatContent(
        name=seat.name,
        meta=seat.meta,
        direction=seat.direction,
        workspace=seat.workspace,
        data_dir=seat.data_dir,
        data_inside=str(sandbox.inside(DATA)),
        workspace_inside=str(sandbox.inside(WORKSPACE)),
    )


def require_bearer(app: Any, token: str) -> Any:
    """Refuse HTTP requests without `Authorization: Bearer <the seat's agent token>` (401)."""
    from starlette.responses import JSONResponse

    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            got = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not hmac.compare_digest(got, expected):
                detail = {"error": "this MCP endpoint needs 'Authorization: Bearer <the agent token>'"}
                await JSONResponse(detail, status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


async def _serve_stdio(server: Any) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def _exit_on_term(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def serve_seat(opts: SeatOptions, *, transport: str, host: str, port: int) -> None:
    """Raises SeatError before serving anything if the seat cannot be opened."""
    token = agent_token(opts, dict(os.environ))
    seat = open_seat(opts, token)
    # SIGTERM unwinds to `seat.close()` (which unmounts the workspace volume); uvicorn re-raises the signal
    # it caught after its graceful shutdown, and the default action would end the process right there
    signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        server = build_mcp_server(seat.toolset, seat_content(seat), name=seat.name, task=seat.task)
        if transport == "stdio":
            anyio.run(_serve_stdio, server)
        else:
            import uvicorn

            app = require_bearer(server.streamable_http_app(host=host), token)
            uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        seat.close()
