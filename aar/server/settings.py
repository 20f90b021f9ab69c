"""Server settings: where the run lives, which database, limits and budgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aar.paths import tasks_dir as default_tasks_dir


@dataclass
class Settings:
    run_dir: Path
    tasks_dir: Path = field(default_factory=lambda: default_tasks_dir("full"))
    db_url: str | None = None  # None: SQLite (WAL) at RUN_DIR/aar.db
    budget: int = 300  # evaluations per agent per task for the whole run
    task: str | None = None  # the run's main task (else run.toml's `task`); `GET /api/run`
    max_snapshot_bytes: int = 50 * 1024 * 1024
    max_snapshot_unpacked_bytes: int = 500 * 1024 * 1024
    max_snapshot_members: int = 10_000
    max_json_bytes: int = 8 * 1024 * 1024
    sqlite_synchronous: str = (
        "NORMAL"  # WAL + NORMAL survives a killed process; FULL also survives power loss
    )
    print_admin_token: bool = True
    event_buffer: int = 10_000  # recent events kept for clients that resume with Last-Event-ID

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir)
        self.tasks_dir = Path(self.tasks_dir)

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.run_dir / 'aar.db'}"

    @property
    def blobs_dir(self) -> Path:
        return self.run_dir / "blobs"

    @property
    def max_body_bytes(self) -> int:
        return max(self.max_snapshot_bytes, self.max_json_bytes) + 64 * 1024
