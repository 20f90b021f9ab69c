"""Server-sent events: `finding`, `submission`, `snapshot` as they are written."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse

from aar.server.auth import Caller
from aar.server.routes.common import state_of

router = APIRouter(prefix="/api")


@router.get("/events")
async def events(request: Request, _: Caller) -> EventSourceResponse:
    broker = state_of(request).broker
    queue = broker.subscribe()

    async def stream():  # type: ignore[no-untyped-def]
        try:
            yield {"event": "hello", "data": "{}"}
            while True:
                try:
                    kind, data = await asyncio.wait_for(queue.get(), timeout=1.0)
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    continue
                yield {"event": kind, "data": data}
        finally:
            broker.unsubscribe(queue)

    return EventSourceResponse(stream(), ping=15)
