"""Server-sent events: `finding`, `submission` (own only, for agents), `snapshot`, `verification`.

Every event carries an id; a client that reconnects with `Last-Event-ID` (browsers' EventSource does it
by itself) gets the events it missed, or a `reset` event when they are no longer buffered (or the server
restarted): then it should refetch over REST. `hello` opens every stream.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Header, Request
from sse_starlette.sse import EventSourceResponse

from aar.server.auth import Caller
from aar.server.routes.common import state_of

router = APIRouter(prefix="/api")


@router.get("/events")
async def events(
    request: Request,
    who: Caller,
    last_event_id: str | None = Header(None, alias="Last-Event-ID", max_length=64),
) -> EventSourceResponse:
    broker = state_of(request).broker
    sub, start = broker.subscribe(who)

    async def stream():  # type: ignore[no-untyped-def]
        sent = start
        try:
            if last_event_id is None:  # a fresh stream: resuming from here misses nothing
                yield {"event": "hello", "id": broker.event_id(start), "data": "{}"}
            else:
                yield {"event": "hello", "data": "{}"}
                after = broker.parse_id(last_event_id)
                missed, complete = broker.replay(after) if after is not None else ([], False)
                if not complete:
                    yield {
                        "event": "reset",
                        "id": broker.event_id(start),
                        "data": '{"reason": "events missed"}',
                    }
                for ev in missed:
                    if ev.seq <= start and (data := ev.for_(who)) is not None:
                        yield {"event": ev.kind, "id": broker.event_id(ev.seq), "data": data}
            while True:
                try:
                    ev = await asyncio.wait_for(sub.queue.get(), timeout=1.0)
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    continue
                if ev.seq <= sent:
                    continue
                data = ev.for_(who)
                if data is not None:
                    sent = ev.seq
                    yield {"event": ev.kind, "id": broker.event_id(ev.seq), "data": data}
        finally:
            broker.unsubscribe(sub)

    return EventSourceResponse(stream(), ping=15)
