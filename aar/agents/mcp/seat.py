"""A seat: what one MCP client gets to act as a researcher of a run.

The agent is the one the token names (`GET /api/me`); its folder is RUN_DIR/agents/<name> (or
`--agent-dir`), its sandbox the research view every agent gets (`aar.agents.research_sandbox`): the
workspace at /workspace, the task's staged public data at /aar/data, the models at /aar/models, the
server at /aar/server.sock (the run's socket, or with `--url` a relay `aar mcp` owns). Experiment
commands wait for the run's compute queue when the run has one. Anything that makes the seat unusable
(no server, a refused token, no data, a sandbox that cannot run) raises `SeatError` with one line.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aar.agents.tokens import read_token


class SeatError(Exception):
    """The seat cannot be opened; the message is one line for the user."""


@dataclass
class SeatOptions:
    run_dir: Path | None = None
    agent: str | None = None
    agent_dir: Path | None = None
    url: str | None = None
    uds: Path | None = None
    task: str | None = None
    tasks_dir: Path | None = None
    data_dir: Path | None = None
    sandbox: str = "bwrap"


@dataclass
class Seat:
    name: str
    task: str
    meta: dict[str, Any]  # the task's public meta, as the server gives it
    direction: str
    agent_dir: Path
    data_dir: Path  # host folder of the staged data (seen at /aar/data)
    toolset: Any
    closers: list[Any] = field(default_factory=list)

    @property
    def workspace(self) -> Path:
        return self.agent_dir / "workspace"

    def close(self) -> None:
        for c in reversed(self.closers):
            c()
        self.closers.clear()


def agent_token(opts: SeatOptions, env: dict[str, str]) -> str:
    """The token from $AAR_AGENT_TOKEN, else RUN_DIR/agents/<agent>/token."""
    token = env.get("AAR_AGENT_TOKEN", "").strip()
    if token:
        return token
    if opts.run_dir is not None and opts.agent:
        stored = read_token(opts.run_dir, opts.agent)
        if stored:
            return stored
    raise SeatError("no agent token: set AAR_AGENT_TOKEN (`aar agents add NAME` makes one)")


def server_location(
    run_dir: Path | None, url: str | None, uds: Path | None
) -> tuple[str | None, Path | None]:
    """(url, uds) of the server: as given, else from RUN_DIR/server.json (the socket preferred)."""
    if url or uds:
        return url, uds
    if run_dir is None:
        raise SeatError("give --run-dir (a run with a server) or --url / --uds")
    info_path = run_dir / "server.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError):
        raise SeatError(
            f"no server in {run_dir}: {info_path} is missing; start `aar serve --run-dir "
            f"{run_dir}` (or `aar run`), or give --url"
        ) from None
    if info.get("uds") and Path(info["uds"]).exists():
        return None, Path(info["uds"])
    if info.get("url"):
        return str(info["url"]), None
    raise SeatError(f"{info_path} names no server address")


def _tasks_root(run_dir: Path | None, given: Path | None, size: str) -> Path:
    from aar.paths import tasks_dir

    if given is not None:
        return given.expanduser().resolve()
    if run_dir is not None and (run_dir / "run.toml").exists():
        try:
            from aar.supervisor.config import load_config

            return load_config(run_dir / "run.toml").resolved_tasks_dir()
        except Exception:  # noqa: BLE001 - a run.toml we cannot read: fall back to the cache
            pass
    return tasks_dir(size)


def _run_queue(run_dir: Path | None) -> Any:
    """The run's compute queue (RUN_DIR/queue, slots as in its run.toml), or None outside a run."""
    if run_dir is None or not (run_dir / "queue").is_dir() or not (run_dir / "run.toml").exists():
        return None
    from aar.compute import ComputeQueue
    from aar.supervisor.config import load_config

    try:
        cfg = load_config(run_dir / "run.toml")
    except Exception as e:  # noqa: BLE001
        print(f"aar mcp: not using the run's compute queue ({run_dir / 'run.toml'}: {e})", file=sys.stderr)
        return None
    return ComputeQueue(run_dir / "queue", cfg.slots(), threads=cfg.threads_per_job, devices=cfg.gpus)


def _who(client: Any, where: str) -> dict:
    from aarlab.client import AarClientError

    try:
        me = client.me()
    except AarClientError as e:
        if e.status == 0:
            raise SeatError(f"cannot reach the server at {where}: {e.detail}") from None
        if e.status in (401, 403):
            raise SeatError(
                f"the server at {where} refused the agent token ({e.status}: {e.detail})"
            ) from None
        raise SeatError(f"the server at {where} answered {e.status}: {e.detail}") from None
    if me.get("role") != "agent":
        raise SeatError(f"that token is the {me.get('role')} token; an MCP seat needs an agent's token")
    return me


def _direction(client: Any, name: str) -> str:
    for a in client.agents():
        if a.get("name") == name:
            return str(a.get("direction") or "")
    return ""


def open_seat(opts: SeatOptions, token: str) -> Seat:
    from aar.agents.audit import AuditLog
    from aar.agents.llm.queued_sandbox import QueuedSandbox
    from aar.agents.research_sandbox import open_agent_sandbox
    from aar.agents.tools import ToolSet
    from aar.sandbox import SandboxError
    from aarlab.client import AarClient, AarClientError

    run_dir = opts.run_dir.expanduser().resolve() if opts.run_dir else None
    url, uds = server_location(run_dir, opts.url, opts.uds)
    where = str(uds or url)
    client = AarClient(None if uds else url, uds=str(uds) if uds else None, token=token)
    name = str(_who(client, where)["name"])
    if opts.agent and opts.agent != name:
        raise SeatError(f"the token belongs to agent {name!r}, not {opts.agent!r}")
    if opts.agent_dir is not None:
        agent_dir = opts.agent_dir.expanduser().resolve()
    elif run_dir is not None:
        agent_dir = run_dir / "agents" / name
    else:
        raise SeatError("give --run-dir or --agent-dir (where the workspace and audit log live)")
    try:
        task = opts.task or str(client.tasks()[0]["task"])
        meta = client.task(task)
    except (AarClientError, IndexError, KeyError) as e:
        raise SeatError(f"no task {opts.task or ''!r} on the server: {e}") from None
    public = (
        opts.data_dir
        or _tasks_root(run_dir, opts.tasks_dir, str(meta.get("size", "full"))) / task / "main" / "public"
    )
    public = public.expanduser().resolve()
    if not (public / "meta.json").is_file():
        raise SeatError(f"no public data for task {task!r} at {public}; give --tasks-dir or --data-dir")

    seat_closers: list[Any] = []
    socket = uds
    if socket is None:
        from aar.agents.mcp.relay import SocketRelay

        relay = SocketRelay(str(url)).start()
        seat_closers.append(relay.stop)
        socket = relay.socket_path
    try:
        sandbox, view = open_agent_sandbox(opts.sandbox, agent_dir, public, socket=socket)
        probe = sandbox.run("true", timeout=60)
    except SandboxError as e:
        for c in seat_closers:
            c()
        raise SeatError(f"the {opts.sandbox} sandbox is unusable here: {e}") from None
    if not probe.ok:
        for c in seat_closers:
            c()
        why = (probe.stderr.strip().splitlines() or [probe.killed_reason or f"exit {probe.returncode}"])[-1]
        raise SeatError(f"the {opts.sandbox} sandbox cannot run commands here: {why}")
    seat_closers.append(sandbox.close)
    runner: Any = sandbox
    queue = _run_queue(run_dir)
    if queue is not None:
        runner = QueuedSandbox(sandbox, queue, name, log=agent_dir / "experiments.jsonl")
    audit = AuditLog(agent_dir / "audit.jsonl", name)
    toolset = ToolSet(runner, client, agent_dir / "workspace", audit, task, env={"AAR_AGENT_TOKEN": token})
    seat_closers.append(client.close)
    return Seat(name, task, meta, _direction(client, name), agent_dir, view.data, toolset, seat_closers)
