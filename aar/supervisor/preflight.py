"""Checks a run's inputs before anything is created: `aar run`, `aar resume` and `aar demo` call them, and
each failure is one `PreflightError` line (the commands print it and exit non-zero).

`load_run_config(path)` reads and validates a run.toml; `check_run(cfg)` checks what the run will need
from the machine (its tasks built, a free port, the sandbox installed, an admin token for a given
server); `run_folder(path)` says whether a folder is a run (`aar report` / `aar resume` refuse others).
"""

from __future__ import annotations

import os
import shutil
import socket
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from aar.cli_errors import one_line, validation_message

if TYPE_CHECKING:
    from aar.supervisor.config import RunConfig


class PreflightError(ValueError):
    """A run cannot start as asked; the message says why, on one line."""


def load_run_config(path: Path) -> RunConfig:
    from pydantic import ValidationError

    from aar.supervisor.config import load_config

    path = Path(path)
    if not path.is_file():
        raise PreflightError(f"{path}: no such file" if not path.exists() else f"{path} is not a file")
    try:
        return load_config(path)
    except tomllib.TOMLDecodeError as e:
        raise PreflightError(f"{path}: not valid TOML: {one_line(e)}") from e
    except ValidationError as e:
        raise PreflightError(f"{path}: {validation_message(e)}") from e
    except (ValueError, OSError) as e:
        raise PreflightError(f"{path}: {one_line(e)}") from e


def run_folder(path: Path) -> Path:
    """`path` resolved, if it is a run's folder (it holds the run.toml a run writes at its start)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise PreflightError(f"{path}: no such folder")
    if not path.is_dir():
        raise PreflightError(f"{path} is not a folder")
    if not (path / "run.toml").is_file():
        raise PreflightError(f"{path} is not a run folder (it has no run.toml)")
    return path.resolve()


def check_port(host: str, port: int) -> None:
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise PreflightError(f"server port {host}:{port}: {e.strerror or e}") from e


def check_sandbox(kind: str) -> None:
    if kind == "bwrap" and shutil.which("bwrap") is None:
        raise PreflightError("sandbox bwrap: bubblewrap is not installed (apt-get install bubblewrap)")
    if kind == "docker" and shutil.which("docker") is None:
        raise PreflightError("sandbox docker: the docker CLI is not on PATH")


def check_run(cfg: RunConfig, *, tasks_built: bool = True, fresh: bool = False) -> None:
    """What `cfg` needs from the machine. `tasks_built=False` skips the task check (a demo builds them);
    `fresh` refuses a run folder that already holds a run (resuming one is `aar resume`)."""
    from aar.tasks.readiness import draw_ready

    run_dir = Path(cfg.run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise PreflightError(f"run_dir {run_dir} is not a folder")
    if fresh and (run_dir / "run.toml").exists():
        raise PreflightError(f"run_dir {run_dir} already holds a run: `aar resume {run_dir}` continues it")
    if tasks_built:
        root = cfg.resolved_tasks_dir()
        for task in dict.fromkeys([cfg.task, *(g.task for g in cfg.agents if g.task)]):
            if not draw_ready(root / task / "main" / "public"):
                hint = f"aar w2s prepare --size {cfg.size} --task {task}"
                raise PreflightError(f"task {task!r} is not built under {root} (`{hint}` builds it)")
    if cfg.server.url is None:
        check_port(cfg.server.host, cfg.server.port)
    elif not (cfg.server.admin_token or os.environ.get("AAR_ADMIN_TOKEN")):
        raise PreflightError("server.url given without an admin token (server.admin_token or "
                             "$AAR_ADMIN_TOKEN)")
    check_sandbox(cfg.sandbox)
