"""Registering agents with the server and building their command lines (searcher or llm)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from aar.agents.tokens import write_token
from aar.supervisor.config import AgentGroup, RunConfig
from aarlab.client import AarClient, AarClientError


def register_agent(admin: AarClient, run_dir: Path, name: str, direction: str) -> str:
    """Create the agent (or, when it exists from an earlier start, issue it a fresh token); store the token
    in RUN_DIR/agents/<name>/token (0600, outside the sandbox-visible workspace)."""
    try:
        token = admin.create_agent(name, direction)["token"]
    except AarClientError as e:
        if e.status != 409:
            raise
        token = admin.agent_token(name)["token"]
    write_token(run_dir, name, token)
    return token


def direction_text(cfg: RunConfig, name: str) -> str:
    for d in cfg.direction_list():
        if d.name == name:
            return f"{d.name}: {d.text}"
    raise KeyError(name)


def agent_command(
    cfg: RunConfig,
    name: str,
    group: AgentGroup,
    direction: str,
    *,
    server_url: str | None,
    uds: str | None,
    deadline: float | None,
) -> list[str]:
    run_dir = cfg.run_dir
    task = group.task or cfg.task
    data_dir = cfg.resolved_tasks_dir() / task / "main" / "public"
    common = [
        "--run-dir",
        str(run_dir),
        "--name",
        name,
        "--task",
        task,
        "--sandbox",
        cfg.sandbox,
        "--data-dir",
        str(data_dir),
    ]
    common += ["--server-url", server_url] if server_url else ["--uds", str(uds)]
    if group.kind == "llm":
        conf = run_dir / "agents" / name / "llm.json"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(json.dumps(group.llm_config().model_dump(mode="json", exclude_unset=True), indent=1))
        return [
            sys.executable,
            "-m",
            "aar.agents.llm",
            *common,
            "--config",
            str(conf),
            "--direction",
            direction_text(cfg, direction),
        ]
    opts = group.searcher
    cmd = [
        sys.executable,
        "-m",
        "aar.agents.searcher",
        *common,
        "--direction",
        direction,
        "--slots",
        str(cfg.slots()),
        "--threads",
        str(cfg.threads_per_job),
        "--seeds",
        ",".join(map(str, opts.seeds)),
        "--run-timeout",
        str(opts.run_timeout),
        "--import-margin",
        str(opts.import_margin),
    ]
    if cfg.directions:
        path = run_dir / "directions.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cfg.directions, indent=1))
        cmd += ["--directions-file", str(path)]
    if cfg.gpus:
        cmd += ["--devices", ",".join(cfg.gpus)]
    if cfg.budget_per_agent:
        cmd += ["--budget", str(cfg.budget_per_agent)]
    if deadline is not None:
        cmd += ["--wall-time", f"{max(0.0, deadline - time.time()):.1f}"]
    if opts.modes:
        cmd += ["--modes", ",".join(opts.modes)]
    if opts.max_ideas:
        cmd += ["--max-ideas", str(opts.max_ideas)]
    return cmd


def agent_env(cfg: RunConfig, token: str) -> dict[str, str]:
    threads = str(cfg.threads_per_job)
    return {
        "AAR_AGENT_TOKEN": token,
        "AAR_COMPUTE_ROOT": str(cfg.run_dir / "queue"),
        "AAR_COMPUTE_SLOTS": str(cfg.slots()),
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "PYTHONUNBUFFERED": "1",
    } | ({"AAR_COMPUTE_DEVICES": ",".join(cfg.gpus)} if cfg.gpus else {})
