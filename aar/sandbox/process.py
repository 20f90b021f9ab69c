"""Run one command under a wall clock, a disk watcher and bounded output capture; kill all on breach."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aar.sandbox.base import RunResult
from aar.sandbox.limits import disk_usage

CANCELLED = "cancelled"


class _Capture:
    """Drains a pipe, keeping the first `limit` characters' worth of bytes (the rest is counted, not kept)."""

    def __init__(self, stream, limit: int) -> None:  # noqa: ANN001
        self.buf = bytearray()
        self.dropped = 0
        self.limit = limit
        self.thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self.thread.start()

    def _drain(self, stream) -> None:  # noqa: ANN001
        for chunk in iter(lambda: stream.read1(65536), b""):
            room = self.limit - len(self.buf)
            if room > 0:
                self.buf += chunk[:room]
            self.dropped += max(0, len(chunk) - max(room, 0))
        stream.close()

    def text(self) -> str:
        self.thread.join(timeout=5)
        out = self.buf.decode("utf-8", "replace")
        if self.dropped:
            out += f"\n[... {self.dropped} more bytes of output dropped]"
        return out


def execute(
    argv: list[str],
    *,
    env: dict[str, str],
    wall: float,
    preexec: Callable[[], None] | None,
    output_chars: int,
    workspace: Path | None = None,
    disk_quota: int | None = None,
    on_kill: Callable[[], None] | None = None,
    cwd: str | None = None,
    cancel: threading.Event | None = None,
    pass_fds: tuple[int, ...] = (),
    final_usage: Callable[[Path], int] = disk_usage,
) -> RunResult:
    """Run argv in a new session; SIGKILL its process group (and `on_kill`) on wall-time or disk breach,
    or as soon as `cancel` is set (the caller gave up on the command: killed_reason `cancelled`).

    When it returns, `on_kill` runs (nothing may outlive the command), then `final_usage(workspace)`, the
    last quota check, runs with no process of the command left (the bwrap sandbox also settles the
    workspace there: setuid bits stripped)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        preexec_fn=preexec,
        cwd=cwd,
        pass_fds=pass_fds,
    )
    out, err = _Capture(proc.stdout, output_chars), _Capture(proc.stderr, output_chars)
    reason: str | None = None
    timed_out = False
    done = threading.Event()
    usage: list[float] = []
    threading.Thread(target=_reap, args=(proc, usage, done), daemon=True).start()
    while not done.is_set():
        left = wall - (time.monotonic() - t0)
        if left <= 0:
            timed_out, reason = True, f"wall time limit {wall:g}s exceeded"
        elif cancel is not None and cancel.is_set():
            reason = CANCELLED
        elif done.wait(min(left, 0.1)):
            break
        elif workspace is not None and disk_quota is not None and disk_usage(workspace) > disk_quota:
            reason = f"workspace disk quota {disk_quota // (1024 * 1024)} MB exceeded"
        if reason:
            _kill(proc, on_kill)
            break
    done.wait()  # the reaper thread is the only waiter (two waiters on one pid would lose its status)
    if on_kill is not None:
        on_kill()  # nothing may outlive the command (daemons, setsid'd children)
    if workspace is not None and disk_quota is not None:
        used = final_usage(workspace)
        if reason is None and used > disk_quota:
            reason = f"workspace disk quota {disk_quota // (1024 * 1024)} MB exceeded"
    return RunResult(
        proc.returncode,
        out.text(),
        err.text(),
        time.monotonic() - t0,
        timed_out,
        reason,
        cpu_seconds=usage[0] if usage else None,
    )


def _reap(proc: subprocess.Popen, usage: list[float], done: threading.Event) -> None:
    """Wait for the command with os.wait4: its exit status and the CPU time of its process tree (the
    command and every descendant it, or the sandbox's init, waited for)."""
    try:
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        usage.append(ru.ru_utime + ru.ru_stime)
    except ChildProcessError:  # reaped elsewhere (cannot happen while we are its only waiter)
        proc.wait()
    finally:
        done.set()


def _kill(proc: subprocess.Popen, on_kill: Callable[[], None] | None) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if on_kill is not None:
        on_kill()
