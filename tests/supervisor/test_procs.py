"""Child processes: bounded restarts, SIGTERM then SIGKILL, whole process groups stopped."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from aar.supervisor.procs import ManagedProcess, stop_all


def _settle(p: ManagedProcess, states: tuple[str, ...], timeout: float = 20.0) -> str:
    t0 = time.time()
    while p.poll() not in states:
        assert time.time() - t0 < timeout, p.state
        time.sleep(0.02)
    return p.state


def test_crash_is_restarted_then_finishes(tmp_path: Path) -> None:
    marker = tmp_path / "crashed-once"
    code = (
        f"import pathlib,sys; m=pathlib.Path({str(marker)!r}); sys.exit(0 if m.exists() else m.touch() or 3)"
    )
    p = ManagedProcess(
        "a", [sys.executable, "-c", code], tmp_path / "a.log", max_restarts=2, restart_delay=0.05
    )
    p.start()
    assert _settle(p, ("done", "failed")) == "done"
    assert p.restarts == 1 and p.exit_codes == [3, 0]
    assert (tmp_path / "a.log").read_text().count("--- start") == 2


def test_restarts_are_bounded(tmp_path: Path) -> None:
    p = ManagedProcess(
        "b",
        [sys.executable, "-c", "raise SystemExit(5)"],
        tmp_path / "b.log",
        max_restarts=2,
        restart_delay=0.01,
    )
    p.start()
    assert _settle(p, ("done", "failed")) == "failed"
    assert p.restarts == 2 and p.exit_codes == [5, 5, 5]


def test_stop_escalates_and_reaches_children(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    code = (
        "import signal, subprocess, sys, time, pathlib\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"pathlib.Path({str(pidfile)!r}).write_text(str(c.pid))\n"
        "time.sleep(600)\n"
    )
    p = ManagedProcess("c", [sys.executable, "-c", code], tmp_path / "c.log")
    p.start()
    t0 = time.time()
    while not pidfile.exists():
        assert time.time() - t0 < 20
        time.sleep(0.02)
    child = int(pidfile.read_text())
    t0 = time.time()
    stop_all([p], "stopped", grace=0.5)
    assert time.time() - t0 < 5
    assert not p.alive() and p.state == "stopped"
    assert p.exit_codes and p.exit_codes[-1] == -9  # ignored SIGTERM, so it was killed
    time.sleep(0.1)
    try:
        os.kill(child, 0)
        alive = Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"
    except ProcessLookupError:
        alive = False
    assert not alive
