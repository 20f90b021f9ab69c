"""The app factory. Other parts mount their routers here (e.g. the dashboard) with `include_router`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from aar.server.routes import board, core, evaluate, events, forum, run, snapshots, verify
from aar.server.settings import Settings
from aar.server.state import ServerState, build_state


class BodyLimit:
    """Refuse a request whose declared Content-Length is over the server-wide limit (413)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length":
                    try:
                        too_big = int(value) > self.limit
                    except ValueError:
                        too_big = True
                    if too_big:
                        body = b'{"detail":"request body too large or bad Content-Length"}'
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 413,
                                "headers": [
                                    (b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode()),
                                ],
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
        await self.app(scope, receive, send)


def create_app(settings: Settings, state: ServerState | None = None) -> FastAPI:
    state = state or build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.broker.bind_loop(asyncio.get_running_loop())
        yield
        await state.writer.close()
        if state.probing is not None:
            state.probing.close()
        state.engine.dispose()

    app = FastAPI(title="aar research server", lifespan=lifespan)
    app.state.aar = state
    for module in (core, evaluate, snapshots, forum, board, verify, events, run):
        app.include_router(module.router)
    # The dashboard engineer mounts aar.server.dashboard here with one include_router line.
    app.include_router(__import__("aar.server.dashboard", fromlist=["router"]).router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
