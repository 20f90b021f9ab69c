"""Where a run keeps an agent's server token: RUN_DIR/agents/<name>/token (0600, outside the sandbox-visible
workspace). The supervisor writes it for the agents it starts, `aar agents add` for a seat."""

from __future__ import annotations

import os
from pathlib import Path


def token_path(run_dir: Path, name: str) -> Path:
    return Path(run_dir) / "agents" / name / "token"


def write_token(run_dir: Path, name: str, token: str) -> Path:
    agent_dir = Path(run_dir) / "agents" / name
    (agent_dir / "workspace").mkdir(parents=True, exist_ok=True)
    path = token_path(run_dir, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    return path


def read_token(run_dir: Path, name: str) -> str | None:
    try:
        return token_path(run_dir, name).read_text().strip() or None
    except OSError:
        return None
