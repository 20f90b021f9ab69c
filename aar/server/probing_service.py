"""Runs the probing detector (`probing.py`) on every stored agent submission, off the request path.

A worker thread takes submissions in id order, updates the task's pool, writes new verdicts as
`AgentFlag` rows (flag `probing`, per agent and task) and re-closes that agent's verifications, so the
flag reaches results verified before it. On start the pools are rebuilt from the database.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aar.server.models import Agent, AgentFlag, Submission
from aar.server.probing import ProbingConfig, TaskPool, Verdict
from aar.server.scoring import unpack_array

log = logging.getLogger("aar.server.probing")
FLAG = "probing"


@dataclass(frozen=True)
class Item:
    agent_id: int
    task: str
    preds: np.ndarray  # the whole test vector
    private_accuracy: float | None


class ProbingService:
    def __init__(self, state, cfg: ProbingConfig | None = None) -> None:  # noqa: ANN001 - ServerState
        self.state, self.cfg = state, cfg or ProbingConfig()
        self.pools: dict[str, TaskPool] = {}
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._rebuild()
        self._thread = threading.Thread(target=self._work, name="aar-probing", daemon=True)
        self._thread.start()

    def _pool(self, task: str) -> TaskPool | None:
        pool = self.pools.get(task)
        if pool is None:
            t = self.state.tasks.get(task)
            if t is None:
                return None
            pool = self.pools[task] = TaskPool(task, int(t.main.public_idx.size), self.cfg)
        return pool

    def _rebuild(self) -> None:
        with self.state.sessions() as s:
            rows = s.execute(
                select(
                    Submission.agent_id,
                    Submission.task,
                    Submission.n,
                    Submission.predictions_packed,
                    Submission.private_accuracy,
                )
                .join(Agent, Agent.id == Submission.agent_id)
                .where(Agent.role == "agent", Submission.split == "test")
                .order_by(Submission.id)
            ).all()
        verdicts: list[Verdict] = []
        for agent_id, task, n, packed, prv in rows:
            verdicts += self._add(Item(agent_id, task, unpack_array(packed, n), prv))
        for v in verdicts:  # a verdict the last process reached but did not store
            self._store(v, reclose=False)

    def submit(self, agent_id: int, task: str, preds: np.ndarray, private_accuracy: float | None) -> None:
        self._queue.put(Item(agent_id, task, preds, private_accuracy))

    def flush(self) -> None:
        """Wait until every submission handed in so far has been judged."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)

    def _add(self, item: Item) -> list[Verdict]:
        pool = self._pool(item.task)
        t = self.state.tasks.get(item.task)
        if pool is None or t is None or item.preds.size != t.main.n_test:
            return []
        draw = t.main
        pub = item.preds[draw.public_idx]
        public_acc = float((pub == draw.labels["test"][draw.public_idx]).mean()) if pub.size else 0.5
        return pool.add(item.agent_id, pub, public_acc, item.private_accuracy, int(draw.private_idx.size))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                for v in self._add(item):
                    self._store(v, reclose=True)
            except Exception:  # noqa: BLE001 - the detector must never take the server down
                log.exception("probing detector failed on a submission")
            finally:
                self._queue.task_done()

    def _store(self, v: Verdict, reclose: bool) -> None:
        from aar.server.state import utcnow
        from aar.server.verification import reclose_agent

        details = {"signatures": v.signatures, **v.details}
        with self.state.sessions.begin() as s:
            row = s.scalar(
                select(AgentFlag).where(
                    AgentFlag.agent_id == v.agent_id, AgentFlag.flag == FLAG, AgentFlag.task == v.task
                )
            )
            if row is not None:
                row.details = details
                return
            try:
                with s.begin_nested():
                    s.add(
                        AgentFlag(
                            agent_id=v.agent_id, flag=FLAG, task=v.task, details=details, created_at=utcnow()
                        )
                    )
            except IntegrityError:
                return
        if reclose:
            reclose_agent(self.state, v.agent_id)
