"""In-process fan-out of server events (finding, submission, snapshot) to SSE subscribers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field


@dataclass
class Broker:
    max_queue: int = 1000
    _subscribers: set[asyncio.Queue[tuple[str, str]]] = field(default_factory=set)
    _loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self) -> asyncio.Queue[tuple[str, str]]:
        q: asyncio.Queue[tuple[str, str]] = asyncio.Queue(self.max_queue)
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[tuple[str, str]]) -> None:
        self._subscribers.discard(q)

    def _fan_out(self, kind: str, data: str) -> None:
        for q in list(self._subscribers):
            try:
                q.put_nowait((kind, data))
            except asyncio.QueueFull:  # a stalled reader loses events rather than stalling the server
                pass

    def publish(self, kind: str, payload: dict) -> None:
        """Safe to call from the event loop or from a worker thread."""
        if not self._subscribers:
            return
        data = json.dumps(payload, default=str)
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            self._fan_out(kind, data)
        else:
            loop.call_soon_threadsafe(self._fan_out, kind, data)
