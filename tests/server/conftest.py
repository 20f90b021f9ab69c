"""Fixtures: a tiny task dir written here (contract layout) and a real `aar serve` subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import N_TEST, ServerProc, Team, write_task


@pytest.fixture(scope="session")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tasks")
    write_task(root, "alpha", N_TEST, seed=1)
    write_task(root, "beta", N_TEST, seed=2, weak=0.55, strong=0.8)
    return root


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, task_root: Path) -> Iterator[ServerProc]:
    srv = ServerProc(tmp_path_factory.mktemp("run"), task_root, ["--budget", "1000"]).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def team(server: ServerProc) -> Iterator[Team]:
    admin = server.client()
    a = server.client(admin.create_agent("agent-a", "try confidence filtering")["token"])
    b = server.client(admin.create_agent("agent-b")["token"], uds=True)
    yield Team(admin, a, b)
    for c in (admin, a, b):
        c.close()
