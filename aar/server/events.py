"""In-process fan-out of server events to SSE subscribers, filtered per caller, with resumable ids.

Every event gets an id `<boot>-<seq>` (boot: random per server process; seq: 1, 2, ...). The last
`buffer` events are kept so a client that reconnects with `Last-Event-ID` gets what it missed; when its
id is from another boot or older than the buffer, it gets a `reset` event first (refetch over REST).

Who sees what (the REST rules): admins see every event with its admin payload; an event with an
`owner` goes to that agent only (its own submissions); others go to every agent with their agent view.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field

from aar.server.auth import Principal


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    admin_data: str
    agent_data: str | None  # None: agents never see it
    owner: int | None  # agent id: only this agent (and admins) see it

    def for_(self, who: Principal) -> str | None:
        if who.is_admin:
            return self.admin_data
        if self.owner is not None and self.owner != who.agent_id:
            return None
        return self.agent_data


@dataclass
class Subscriber:
    who: Principal
    queue: asyncio.Queue[Event]


@dataclass
class Broker:
    max_queue: int = 1000
    buffer: int = 10_000
    boot: str = field(default_factory=lambda: secrets.token_hex(4))
    _subs: dict[int, Subscriber] = field(default_factory=dict)
    _recent: deque[Event] = field(default_factory=deque)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def event_id(self, seq: int) -> str:
        return f"{self.boot}-{seq}"

    def parse_id(self, last_event_id: str | None) -> int | None:
        """The seq of a Last-Event-ID of this boot, else None (unknown, other boot, malformed)."""
        if not last_event_id:
            return None
        boot, _, seq = last_event_id.strip().partition("-")
        if boot != self.boot or not seq.isdigit() or len(seq) > 18:
            return None
        return int(seq)

    def subscribe(self, who: Principal) -> tuple[Subscriber, int]:
        """A new subscriber and the seq it starts after: every later event reaches its queue."""
        sub = Subscriber(who, asyncio.Queue(self.max_queue))
        with self._lock:
            self._subs[id(sub)] = sub
            return sub, self._seq

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subs.pop(id(sub), None)

    def replay(self, after: int) -> tuple[list[Event], bool]:
        """Buffered events after seq `after`, and whether the buffer still reaches back that far."""
        with self._lock:
            events = [e for e in self._recent if e.seq > after]
            complete = after >= self._seq or (bool(self._recent) and self._recent[0].seq <= after + 1)
        return events, complete

    def _fan_out(self, ev: Event) -> None:
        for sub in list(self._subs.values()):
            if ev.for_(sub.who) is None:
                continue
            try:
                sub.queue.put_nowait(ev)
            except asyncio.QueueFull:  # a stalled reader loses events (it can resume) rather than stall us
                pass

    def publish(
        self, kind: str, payload: dict, *, agent_view: dict | None | bool = True, owner: int | None = None
    ) -> None:
        """Record and send an event. `agent_view`: what agents see (True: the same payload; None/False:
        nothing); `owner`: only that agent sees it. Safe from the event loop or a worker thread."""
        admin_data = json.dumps(payload, default=str)
        if agent_view is True:
            agent_data: str | None = admin_data
        elif isinstance(agent_view, dict):
            agent_data = json.dumps(agent_view, default=str)
        else:
            agent_data = None
        with self._lock:
            self._seq += 1
            ev = Event(self._seq, kind, admin_data, agent_data, owner)
            self._recent.append(ev)
            while len(self._recent) > self.buffer:
                self._recent.popleft()
        if not self._subs:
            return
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            self._fan_out(ev)
        else:
            loop.call_soon_threadsafe(self._fan_out, ev)
