"""Checks a run's inputs before anything is created: `aar run`, `aar resume` and `aar demo` call them, and
each failure is one `PreflightError` line (the commands print it and exit non-zero).

`load_run_config(path)` reads and validates a run.toml; `check_run(cfg)` checks what the run will need
from the machine (its tasks built, a free port, the sandbox installed, an admin token for a given
server); `run_folder(path)` says whether a folder is a run (`aar report` / `aar resume` refuse others).
`preflight(cfg)` is what `aar run` (and `aar run --check`) checks: all of `check_run`, the sandbox
running a command, and each LLM endpoint with one cheap call; one line per problem.
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
    from pydantic import ValidationError

    from aar.agents.llm.config import LLMAgentConfig
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


def config_problems(error: ValidationError) -> list[str]:
    """One line per validation error, naming where in run.toml (`agents[0].llm.modle: unknown key`)."""
    out = []
    for e in error.errors():
        where = ""
        for part in e["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
        message = "unknown key" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {message}" if where else message)
    return out


def load(path: Path) -> tuple[RunConfig | None, list[str]]:
    """(config, []) or (None, one line per problem of the file)."""
    from pydantic import ValidationError

    from aar.supervisor.config import load_config

    try:
        return load_config(path), []
    except FileNotFoundError:
        return None, [f"no such config file: {path}"]
    except ValidationError as e:
        return None, [f"{path}: {p}" for p in config_problems(e)]
    except ValueError as e:  # TOML syntax
        return None, [f"{path}: {e}"]


def _groups_label(cfg: RunConfig, group: object) -> str:
    names = [n for n, g in cfg.agent_specs() if g is group]
    return names[0] if len(names) == 1 else f"{names[0]}..{names[-1]}"


def llm_problems(cfg: RunConfig) -> list[str]:
    """One provider call per distinct (provider, model, endpoint, key variable)."""
    from aar.agents.llm.preflight import check_provider, endpoint

    endpoints: dict[tuple, tuple[LLMAgentConfig, list[str]]] = {}
    for g in cfg.agents:
        if g.kind == "llm":
            llm = g.llm_config()
            key = (llm.provider, llm.model, endpoint(llm), llm.key_env())
            endpoints.setdefault(key, (llm, []))[1].append(_groups_label(cfg, g))
    out = []
    for llm, labels in endpoints.values():
        problem = check_provider(llm)
        if problem:
            out.append(f"llm agents {', '.join(labels)} ({llm.provider} {llm.model}): {problem}")
    return out


def sandbox_problems(cfg: RunConfig) -> list[str]:
    if cfg.sandbox == "none":
        return []
    import tempfile

    from aar.sandbox import Limits, SandboxError, SandboxSpec, make_sandbox

    with tempfile.TemporaryDirectory(prefix="aar-check-") as tmp:
        try:
            sb = make_sandbox(cfg.sandbox, SandboxSpec(Path(tmp) / "ws", [], None, Limits(wall_seconds=60)))
            res = sb.run("true")
        except SandboxError as e:
            return [f"sandbox {cfg.sandbox!r} is unusable here: {e}"]
    if not res.ok:
        why = (res.stderr.strip().splitlines() or [res.killed_reason or f"exit {res.returncode}"])[-1]
        return [f"sandbox {cfg.sandbox!r} cannot run commands here: {why}"]
    return []


def preflight(cfg: RunConfig) -> list[str]:
    """Every problem `aar run` would meet, one line each (an empty list: ready)."""
    try:
        check_run(cfg)
    except PreflightError as e:
        return [str(e)]
    return sandbox_problems(cfg) + llm_problems(cfg)
