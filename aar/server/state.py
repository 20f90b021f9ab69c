"""Everything a request handler needs, built once per app: DB, blobs, tasks, events, detector, caches."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from aar.server.auth import Principal, hash_token, new_token
from aar.server.blobs import BlobStore, LocalBlobStore
from aar.server.db import make_engine, migrate, session_factory
from aar.server.events import Broker
from aar.server.models import Agent, Submission, Token
from aar.server.settings import Settings
from aar.server.tasks import TaskRegistry
from aar.server.writer import SubmissionWriter
from aar.tasks.secret import task_secret

if TYPE_CHECKING:
    from aar.server.probing_service import ProbingService

OVERSEER = "overseer"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class ServerState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    tasks: TaskRegistry
    writer: SubmissionWriter
    secret: bytes = b""  # the task secret: keys the noise of public figures
    broker: Broker = field(default_factory=Broker)
    token_cache: dict[str, Principal] = field(default_factory=dict)
    budget_used: dict[tuple[int, str], int] = field(default_factory=dict)
    budget_lock: threading.Lock = field(default_factory=threading.Lock)
    admin_token: str | None = None  # set only on the first start, when the token is created
    probing: ProbingService | None = None

    def used(self, s: Connection | Session, agent_id: int, task: str) -> int:
        """Evaluations this agent has spent on this task in the whole run (cached; call under budget_lock)."""
        key = (agent_id, task)
        used = self.budget_used.get(key)
        if used is None:
            used = (
                s.scalar(
                    select(func.count(Submission.id)).where(
                        Submission.agent_id == agent_id, Submission.task == task
                    )
                )
                or 0
            )
            self.budget_used[key] = used
        return used


def build_state(settings: Settings) -> ServerState:
    from aar.server.probing_service import ProbingService

    settings.run_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, settings.sqlite_synchronous)
    migrate(engine)
    state = ServerState(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        blobs=LocalBlobStore(settings.blobs_dir),
        tasks=TaskRegistry(settings.tasks_dir),
        writer=SubmissionWriter(engine),
        secret=task_secret(create=True),
        broker=Broker(buffer=settings.event_buffer),
    )
    bootstrap(state)
    state.probing = ProbingService(state)
    return state


def bootstrap(state: ServerState) -> None:
    """First start: create the admin (token printed once, written 0600, stored hashed) and `overseer`."""
    with state.sessions.begin() as s:
        if s.scalar(select(Agent).where(Agent.role == "admin")) is None:
            token = new_token("aar_admin")
            admin = Agent(name="admin", role="admin", builtin=True, created_at=utcnow())
            s.add(admin)
            s.flush()
            s.add(Token(agent_id=admin.id, token_hash=hash_token(token), created_at=utcnow()))
            path = state.settings.run_dir / "admin_token"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(token + "\n")
            os.chmod(path, 0o600)
            state.admin_token = token
            if state.settings.print_admin_token:
                print(f"aar server: admin token (shown once; also in {path}): {token}", file=sys.stderr)
        if s.scalar(select(Agent).where(Agent.name == OVERSEER)) is None:
            s.add(
                Agent(
                    name=OVERSEER,
                    role="agent",
                    builtin=True,
                    direction="verifies results",
                    created_at=utcnow(),
                )
            )
