"""Child processes of a run: started in their own session (so a stop reaches their sandboxed children),
output appended to a log file, stopped with SIGTERM then SIGKILL, restarted a bounded number of times.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ManagedProcess:
    name: str
    command: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    max_restarts: int = 0
    restart_delay: float = 1.0
    command_fn: Callable[[], list[str]] | None = None  # rebuilds the command at each (re)start
    proc: subprocess.Popen | None = None
    restarts: int = 0
    state: str = "pending"  # pending | running | restarting | done | failed | stopped | <limit reason>
    exit_codes: list[int] = field(default_factory=list)
    started_at: float | None = None
    _restart_at: float | None = None

    def start(self) -> None:
        if self.command_fn is not None:
            self.command = self.command_fn()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(
                f"\n--- start {time.strftime('%Y-%m-%dT%H:%M:%S')} (restart {self.restarts})\n".encode()
            )
            log.flush()
            self.proc = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
            )
        self.started_at = time.time()
        self.state = "running"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def poll(self) -> str:
        """Advance the state machine: notice exits, restart crashed processes after a short delay."""
        if self.state == "running" and self.proc is not None and (rc := self.proc.poll()) is not None:
            self.exit_codes.append(rc)
            if rc == 0:
                self.state = "done"
            elif self.restarts < self.max_restarts:
                self.state, self._restart_at = "restarting", time.time() + self.restart_delay
            else:
                self.state = "failed"
        if self.state == "restarting" and self._restart_at is not None and time.time() >= self._restart_at:
            self.restarts += 1
            self.start()
        return self.state

    def signal(self, sig: int) -> None:
        if self.alive():
            assert self.proc is not None
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, reason: str = "stopped", grace: float = 10.0) -> None:
        stop_all([self], reason, grace)

    def finish(self) -> None:
        """SIGKILL the group if the leader still lives, reap it and record its exit status."""
        if self.alive():
            self.signal(signal.SIGKILL)
            assert self.proc is not None
            self.proc.wait()
        elif self.proc is not None:
            self.proc.poll()
            # the leader is gone; sandboxed children in its group must not outlive it
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if (
            self.proc is not None
            and self.proc.returncode is not None
            and (not self.exit_codes or self.exit_codes[-1] != self.proc.returncode)
        ):
            self.exit_codes.append(self.proc.returncode)


def stop_all(procs: list, reason: str = "stopped", grace: float = 10.0) -> None:
    """SIGTERM every live process (a `ManagedProcess` or any process handle of an executor: `state`,
    `signal`, `alive`, `finish`), wait up to `grace` seconds, then SIGKILL what is left."""
    for p in procs:
        if p.state in ("running", "restarting", "pending"):
            p.state = reason
        p.signal(signal.SIGTERM)
    deadline = time.time() + grace
    for p in procs:
        while p.alive() and time.time() < deadline:
            time.sleep(0.05)
    for p in procs:
        p.finish()
