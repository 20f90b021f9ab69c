"""Cross-process compute queue: a fixed number of slots shared fairly (round-robin) across owners.

Every experiment (searcher idea runs, overseer re-runs, LLM agents' experiment commands) takes a slot:

    queue = ComputeQueue(root, slots=2)
    with queue.slot("agent-1", "idea-007") as slot:
        run(..., env=slot.env, threads=slot.threads)

State lives in one SQLite database in `root` (`queue.db`, WAL): a table of tickets. A waiting process
inserts a `queued` ticket and polls; inside an immediate (write-locked) transaction it drops tickets of
dead processes, and if a slot is free it grants the next ticket in round-robin order across owners:
owners with fewer running jobs first, then the owner served least recently, then the oldest ticket.
An owner may hold a reserved share (`reserve=R`, the overseer's: its checks must keep up with a whole
team's claims): its tickets go first while it runs fewer than R jobs, then it queues like everyone else.
A ticket is keyed by the holder's pid and its start time (from /proc), so the slot of a process that
crashed (or was killed) is released on the next poll by anyone, and a recycled pid is not mistaken for
the old holder.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    label TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running')),
    slot_index INTEGER,
    queued_at REAL NOT NULL,
    started_at REAL,
    reserve INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS served (
    owner TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""


DEVICES_ENV = "AAR_COMPUTE_DEVICES"


def slot_env(threads: int) -> dict[str, str]:
    """The thread settings a slot's command runs with (the compute queue's and Ray's slots alike)."""
    t = str(threads)
    return {"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "AAR_THREADS": t}


def parse_devices(text: str | None) -> list[str]:
    """A device list ("0,1,3"): GPU minor numbers (N of /dev/nvidiaN, as nvidia-smi numbers them); [] for
    None or ""."""
    out = [d.strip() for d in (text or "").split(",") if d.strip()]
    bad = [d for d in out if not d.isdigit()]
    if bad:
        raise ValueError(f"GPU devices must be minor numbers (N of /dev/nvidiaN), got {bad}")
    return out


def devices_from_env(explicit: str | list[str] | None = None) -> list[str] | None:
    """The run's one device list: `explicit` if given, else $AAR_COMPUTE_DEVICES (set by the supervisor
    for every agent and extra worker); None when there is none (CPU slots)."""
    if explicit is not None and explicit != "":
        return parse_devices(explicit) if isinstance(explicit, str) else [str(d) for d in explicit]
    return parse_devices(os.environ.get(DEVICES_ENV)) or None


def default_threads(slots: int) -> int:
    """Threads per job: cores / slots, at least 1."""
    return max(1, (os.cpu_count() or 1) // max(1, slots))


def _proc_start(pid: int) -> str:
    """Start time of a process in clock ticks since boot ('' where /proc is not available)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # the command name (field 2) may hold spaces and parentheses: split after its closing ')'
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19]  # field 22 overall: starttime


def _alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if start and Path("/proc").is_dir():
        now = _proc_start(pid)
        return now == start
    return True


@dataclass
class Slot:
    """A granted slot: how many threads the job may use and the environment to give it."""

    ticket: int
    owner: str
    label: str
    threads: int
    waited: float
    index: int = 0  # which of the `slots` slots (0-based): the GPU it owns on GPU machines
    device: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    node: str | None = None  # where the slot's compute is, when a provider other than this host's says
    gpus: float = 0.0  # GPUs held (GPU-seconds = wall seconds x gpus)


class SlotCancelled(Exception):
    """The caller gave up (its `cancel` event was set) while the job waited for a slot."""


class ComputeQueue:
    def __init__(
        self,
        root: Path | str,
        slots: int,
        *,
        threads: int | None = None,
        poll: float = 0.05,
        devices: list[str] | None = None,
        reserve: int = 0,
    ):
        """`devices` (GPU ids, e.g. ["0", "1"]): one slot per device; a job sees only its own
        (CUDA_VISIBLE_DEVICES). `slots` is then len(devices). `reserve`: this process's tickets are
        served before the round-robin while their owner runs fewer than `reserve` jobs."""
        if devices:
            slots = len(devices)
        if slots < 1:
            raise ValueError("slots must be >= 1")
        self.devices = list(devices) if devices else None
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "queue.db"
        self.slots = slots
        self.threads = threads if threads is not None else default_threads(slots)
        self.poll = poll
        self.reserve = max(0, reserve)
        self._pid = os.getpid()
        self._pid_start = _proc_start(self._pid)
        self._local = threading.local()
        db = self._connect()
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            cols = {r[1] for r in db.execute("PRAGMA table_info(tickets)")}
            if "slot_index" not in cols:  # a queue made before slots were numbered
                db.execute("ALTER TABLE tickets ADD COLUMN slot_index INTEGER")
            if "reserve" not in cols:  # ... or before an owner could hold a reserved share
                try:
                    db.execute("ALTER TABLE tickets ADD COLUMN reserve INTEGER NOT NULL DEFAULT 0")
                except sqlite3.OperationalError as e:  # another process migrated it first
                    if "duplicate column" not in str(e):
                        raise
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA busy_timeout=60000")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: still atomic; a crash is handled by liveness checks
        return db

    # -- granting -------------------------------------------------------------------------------

    def _reap(self, db: sqlite3.Connection) -> None:
        rows = db.execute("SELECT id, pid, pid_start FROM tickets").fetchall()
        checked: dict[tuple[int, str], bool] = {}
        for ticket, pid, start in rows:
            key = (pid, start)
            if key not in checked:
                checked[key] = _alive(pid, start)
            if not checked[key]:
                db.execute("DELETE FROM tickets WHERE id = ?", (ticket,))

    def _next_ticket(self, db: sqlite3.Connection) -> int | None:
        row = db.execute(
            """
            SELECT t.id FROM tickets t
            LEFT JOIN (SELECT owner, COUNT(*) AS n FROM tickets WHERE state = 'running' GROUP BY owner) r
                ON r.owner = t.owner
            LEFT JOIN served s ON s.owner = t.owner
            WHERE t.state = 'queued'
            ORDER BY t.reserve > COALESCE(r.n, 0) DESC, COALESCE(r.n, 0), COALESCE(s.seq, -1), t.id
            LIMIT 1
            """
        ).fetchone()
        return None if row is None else int(row[0])

    def _try_grant(self, db: sqlite3.Connection, ticket: int) -> int | None:
        """The slot index granted to `ticket`, or None while it must wait."""
        db.execute("BEGIN IMMEDIATE")
        try:
            self._reap(db)
            if db.execute("SELECT 1 FROM tickets WHERE id = ?", (ticket,)).fetchone() is None:
                raise RuntimeError(f"compute ticket {ticket} vanished from {self.path}")
            (running,) = db.execute("SELECT COUNT(*) FROM tickets WHERE state = 'running'").fetchone()
            granted = None
            if running < self.slots and self._next_ticket(db) == ticket:
                used = {r[0] for r in db.execute("SELECT slot_index FROM tickets WHERE state = 'running'")}
                granted = min(set(range(self.slots)) - used)
                owner = db.execute("SELECT owner FROM tickets WHERE id = ?", (ticket,)).fetchone()[0]
                (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM served").fetchone()
                db.execute(
                    "UPDATE tickets SET state = 'running', started_at = ?, slot_index = ? WHERE id = ?",
                    (time.time(), granted, ticket),
                )
                db.execute(
                    "INSERT INTO served(owner, seq) VALUES (?, ?) ON CONFLICT(owner) DO UPDATE SET seq = ?",
                    (owner, seq, seq),
                )
            db.execute("COMMIT")
            return granted
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextmanager
    def slot(
        self, owner: str, label: str = "", timeout: float | None = None, cancel: threading.Event | None = None
    ) -> Iterator[Slot]:
        """Block until a slot is granted to this (owner, label) job; release it on exit. Setting `cancel`
        while it waits gives up the ticket (`SlotCancelled`)."""
        if os.getpid() != self._pid:  # forked: tickets must carry the new process's identity
            self._pid, self._pid_start = os.getpid(), _proc_start(os.getpid())
        t0 = time.time()
        db = self._connect()
        try:
            cur = db.execute(
                "INSERT INTO tickets(owner, label, pid, pid_start, state, queued_at, reserve) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                (owner, label, self._pid, self._pid_start, t0, self.reserve),
            )
            ticket = int(cur.lastrowid or 0)
            try:
                while (index := self._try_grant(db, ticket)) is None:
                    if timeout is not None and time.time() - t0 > timeout:
                        raise TimeoutError(f"no compute slot for {owner}/{label} within {timeout:.0f}s")
                    if cancel is not None and cancel.is_set():
                        raise SlotCancelled(f"{owner}/{label} cancelled while waiting for a compute slot")
                    time.sleep(self.poll)
                env = slot_env(self.threads)
                device = self.devices[index] if self.devices else None
                if device is not None:
                    env["CUDA_VISIBLE_DEVICES"] = device
                yield Slot(
                    ticket, owner, label, self.threads, time.time() - t0, index, device, env,
                    gpus=1.0 if device is not None else 0.0,
                )
            finally:
                db.execute("DELETE FROM tickets WHERE id = ?", (ticket,))
        finally:
            db.close()

    # -- inspection -----------------------------------------------------------------------------

    def status(self) -> list[dict]:
        """Tickets of live processes, running first: owner, label, state, pid, waited/running seconds."""
        now = time.time()
        db = self._connect()
        try:
            rows = db.execute(
                "SELECT id, owner, label, pid, pid_start, state, queued_at, started_at, slot_index "
                "FROM tickets ORDER BY state = 'queued', id"
            ).fetchall()
        finally:
            db.close()
        out = []
        for ticket, owner, label, pid, start, state, queued_at, started_at, index in rows:
            if not _alive(pid, start):
                continue
            out.append(
                {
                    "ticket": ticket,
                    "owner": owner,
                    "label": label,
                    "pid": pid,
                    "state": state,
                    "queued_at": queued_at,
                    "started_at": started_at,
                    "slot": index,
                    "seconds": now - (started_at if state == "running" else queued_at),
                }
            )
        return out

    def counts(self) -> dict[str, dict[str, int]]:
        """Per owner: {"queued": n, "running": n}."""
        out: dict[str, dict[str, int]] = {}
        for row in self.status():
            out.setdefault(row["owner"], {"queued": 0, "running": 0})[row["state"]] += 1
        return out
