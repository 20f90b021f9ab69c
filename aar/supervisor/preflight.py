"""What `aar run` checks before it starts anything (and all `aar run --check` does): the config, the task
data, the sandbox, the server settings and each LLM endpoint (one cheap call each). One line per problem."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from aar.agents.llm.config import LLMAgentConfig
from aar.supervisor.config import RunConfig, load_config


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


def task_problems(cfg: RunConfig) -> list[str]:
    from aar.tasks.readiness import not_ready

    root = cfg.resolved_tasks_dir()
    out = []
    for task in sorted({g.task or cfg.task for g in cfg.agents} | {cfg.task}):
        if not (root / task / "main" / "public" / "meta.json").is_file():
            out.append(f"task {task!r} is not prepared under {root}: run `aar w2s prepare --size {cfg.size}`")
        elif (why := not_ready(root / task)) is not None:
            out.append(f"task {task!r} under {root}: {why}")
    return out


def sandbox_problems(cfg: RunConfig) -> list[str]:
    if cfg.sandbox == "none":
        return []
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


def server_problems(cfg: RunConfig) -> list[str]:
    if cfg.server.url and not (cfg.server.admin_token or os.environ.get("AAR_ADMIN_TOKEN")):
        return ["server.url is set without an admin token: give server.admin_token or set AAR_ADMIN_TOKEN"]
    return []


def mlflow_problems(cfg: RunConfig) -> list[str]:
    if cfg.mlflow is None:
        return []
    from aar.supervisor.mlflow_log import available

    if not available():
        return ["the [mlflow] table needs MLflow: pip install 'aar[mlflow]' (or remove the table)"]
    return []


def preflight(cfg: RunConfig) -> list[str]:
    return (server_problems(cfg) + task_problems(cfg) + sandbox_problems(cfg) + mlflow_problems(cfg)
            + llm_problems(cfg))
