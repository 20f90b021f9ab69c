"""`Sandbox.run(..., cancel=event)`: setting the event from another thread kills the command and all it
started, as a breached limit would; without it nothing changes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from aar.sandbox import Limits, SandboxSpec, make_sandbox

SMALL = Limits(cpu_seconds=20, memory_mb=512, max_procs=32, wall_seconds=60, disk_mb=4, tmp_mb=8)


@pytest.mark.parametrize("kind", ["bwrap", "none"])
def test_cancel_kills_the_command_and_its_children(tmp_path: Path, kind: str) -> None:
    ws = tmp_path / "ws"
    sb = make_sandbox(kind, SandboxSpec(ws, [], None, SMALL), allow_unsafe=kind == "none")
    cancel = threading.Event()
    out: list = []
    command = "(sleep 30; echo late > late.txt) & touch started; sleep 30"
    t = threading.Thread(target=lambda: out.append(sb.run(command, cancel=cancel)))
    t.start()
    deadline = time.monotonic() + 20
    while not (ws / "started").exists():
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.05)
    t0 = time.monotonic()
    cancel.set()
    t.join(10)
    assert not t.is_alive()
    res = out[0]
    assert res.killed_reason == "cancelled" and not res.timed_out and res.returncode != 0
    assert time.monotonic() - t0 < 5
    time.sleep(0.5)
    assert not (ws / "late.txt").exists()


def test_an_event_already_set_kills_at_once_and_an_unset_one_changes_nothing(tmp_path: Path) -> None:
    sb = make_sandbox("bwrap", SandboxSpec(tmp_path / "ws", [], None, SMALL))
    done = threading.Event()
    done.set()
    assert sb.run("sleep 30", cancel=done).killed_reason == "cancelled"
    res = sb.run("echo ok", cancel=threading.Event())
    assert res.ok and res.stdout == "ok\n"
