"""Helpers for the MCP seat tests: a server with one task, agents made with `aar agents add`, the seat's
command line, and looking for a sandboxed process from the host."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_helpers import ServerProc  # noqa: E402

AAR = str(Path(sys.executable).parent / "aar")
TOOLS = {
    "bash",
    "read_file",
    "write_file",
    "edit_file",
    "list_files",
    "evaluate",
    "share_finding",
    "read_forum",
    "search_forum",
    "leaderboard",
    "download_snapshot",
}


def add_agent(server: ServerProc, name: str, direction: str = "") -> str:
    """`aar agents add NAME --run-dir RUN` (admin token from RUN/admin_token); the token it stored."""
    args = [AAR, "agents", "add", name, "--run-dir", str(server.run_dir)]
    if direction:
        args += ["--direction", direction]
    env = {k: v for k, v in os.environ.items() if k != "AAR_ADMIN_TOKEN"}
    cp = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "", "the token is not printed when it can be stored"
    path = server.run_dir / "agents" / name / "token"
    assert path.stat().st_mode & 0o777 == 0o600
    return path.read_text().strip()


def seat_args(server: ServerProc, name: str, *extra: str) -> list[str]:
    return [
        "mcp",
        "--run-dir",
        str(server.run_dir),
        "--agent",
        name,
        "--tasks-dir",
        str(server.tasks_dir),
        "--task",
        "alpha",
        *extra,
    ]


def seat_env(token: str) -> dict[str, str]:
    return {"AAR_AGENT_TOKEN": token, "PATH": os.environ["PATH"]}


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains `marker` (sandboxed processes are visible from the host)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            out.append(int(d.name))
    return out


def wait_for(pred, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
