"""The run's research server: start `aar serve` in the run dir (TCP port + Unix socket) or use a given URL."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aar.supervisor.config import RunConfig
from aar.supervisor.procs import ManagedProcess
from aarlab.client import AarClient, AarClientError


@dataclass
class ServerHandle:
    url: str | None
    uds: str | None
    admin_token: str
    process: ManagedProcess | None = None

    def client(self, token: str | None = None) -> AarClient:
        return AarClient(self.url if not self.uds else None, uds=self.uds, token=token or self.admin_token)


def server_process(cfg: RunConfig) -> ManagedProcess:
    run_dir = cfg.run_dir
    cmd = [
        sys.executable,
        "-m",
        "aar.server",
        "--run-dir",
        str(run_dir),
        "--tasks-dir",
        str(cfg.resolved_tasks_dir()),
        "--host",
        cfg.server.host,
        "--port",
        str(cfg.server.port),
        "--uds",
        str(run_dir / "server.sock"),
        "--task",
        cfg.task,
    ]
    if cfg.server.db_url:
        cmd += ["--db-url", cfg.server.db_url]
    if cfg.budget_per_agent:
        cmd += ["--budget", str(cfg.budget_per_agent)]
    return ManagedProcess("server", cmd, run_dir / "logs" / "server.log", max_restarts=cfg.max_restarts)


def start_server(cfg: RunConfig) -> ServerHandle:
    """Start (or connect to) the server and wait until it answers; returns how to reach it."""
    if cfg.server.url:
        token = cfg.server.admin_token or os.environ.get("AAR_ADMIN_TOKEN")
        if not token:
            raise RuntimeError(
                "server.url given without an admin token (server.admin_token or $AAR_ADMIN_TOKEN)"
            )
        handle = ServerHandle(cfg.server.url, None, token)
        _wait_health(handle, cfg.server.start_timeout, None)
        return handle
    info_path = cfg.run_dir / "server.json"
    info_path.unlink(missing_ok=True)
    proc = server_process(cfg)
    proc.start()
    deadline = time.time() + cfg.server.start_timeout
    while not info_path.exists():
        if not proc.alive():
            raise RuntimeError(f"server exited at start; see {proc.log_path}:\n{_tail(proc.log_path)}")
        if time.time() > deadline:
            proc.stop(grace=2)
            raise RuntimeError(f"server did not start within {cfg.server.start_timeout:.0f}s")
        time.sleep(0.05)
    info = json.loads(info_path.read_text())
    token_path = cfg.run_dir / "admin_token"
    while not token_path.exists() and time.time() < deadline:
        time.sleep(0.05)
    handle = ServerHandle(info.get("url"), info.get("uds"), token_path.read_text().strip(), proc)
    _wait_health(handle, max(1.0, deadline - time.time()), proc)
    return handle


def _wait_health(handle: ServerHandle, timeout: float, proc: ManagedProcess | None) -> None:
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"server exited; see {proc.log_path}:\n{_tail(proc.log_path)}")
        try:
            with handle.client() as c:
                c.health()
                c.me()
            return
        except (AarClientError, OSError) as e:
            last = str(e)
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy within {timeout:.0f}s: {last}")


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""
