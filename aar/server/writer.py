"""Group commit for submissions: concurrent evaluations are inserted in one transaction per batch.

The event loop keeps serving while a batch commits in a worker thread; each caller is answered only
after the transaction holding its row has committed, so an acknowledged submission is durable.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine, insert

from aar.server.models import Submission

MAX_BATCH = 256


class SubmissionWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pending: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def _insert(self, rows: list[dict[str, Any]]) -> list[int]:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(Submission).returning(Submission.id, sort_by_parameter_order=True), rows
            )
            return [r[0] for r in result]

    async def add(self, row: dict[str, Any]) -> int:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        fut: asyncio.Future[int] = loop.create_future()
        self._pending.append((row, fut))
        assert self._wake is not None
        self._wake.set()
        return await fut

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                try:
                    ids = await asyncio.to_thread(self._insert, [row for row, _ in batch])
                except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, fut), sub_id in zip(batch, ids, strict=True):
                    if not fut.done():
                        fut.set_result(sub_id)

    async def close(self, timeout: float = 10.0) -> None:
        """Let queued rows commit (up to `timeout` s), then stop the writer task."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._pending and self._task is not None and not self._task.done() and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
