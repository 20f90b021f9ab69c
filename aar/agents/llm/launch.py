"""Build what the loop needs from a run directory: client, sandbox (experiments through the compute
queue, or through Ray's scheduler on this node under the Ray executor), audit log and ToolSet (per
docs/contracts.md), the task's public meta and the agent's direction."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Agent:
    toolset: Any
    agent_dir: Path
    meta: dict[str, Any]
    direction: str
    data_dir: Path


def _direction(args: argparse.Namespace, client: Any, name: str) -> str:
    if args.direction:
        return str(args.direction)
    if args.direction_file:
        return Path(args.direction_file).read_text()
    for a in client.agents():
        if a.get("name") == name and a.get("direction"):
            return str(a["direction"])
    return ""


def slot_provider(run_dir: Path, env: dict[str, str] | None = None) -> Any:
    """What the agent's experiment commands wait for: Ray's scheduler on this node under the Ray
    executor ($AAR_EXECUTOR=ray: they hold CPUs, and GPUs, of the agent's node), else the run's compute
    queue when the supervisor names one ($AAR_COMPUTE_ROOT / $AAR_COMPUTE_SLOTS); None outside a run."""
    env = dict(os.environ) if env is None else env
    threads = int(env["OMP_NUM_THREADS"]) if env.get("OMP_NUM_THREADS") else None
    if env.get("AAR_EXECUTOR") == "ray":
        from aar.cluster.slots import RaySlots

        return RaySlots(
            env["AAR_RAY_ADDRESS"],
            threads=threads or 1,
            gpus=float(env.get("AAR_RAY_GPUS", "0") or 0),
            node_id=env.get("AAR_RAY_NODE_ID"),
        )
    slots = int(env.get("AAR_COMPUTE_SLOTS", "0") or 0)
    if slots > 0 or env.get("AAR_COMPUTE_ROOT"):
        from aar.compute import DEVICES_ENV, ComputeQueue, parse_devices

        root = env.get("AAR_COMPUTE_ROOT") or str(run_dir / "queue")
        devices = parse_devices(env.get(DEVICES_ENV)) or None
        return ComputeQueue(root, max(1, slots), threads=threads, devices=devices)
    return None


def build_agent(args: argparse.Namespace) -> Agent:
    from aar.agents.audit import AuditLog
    from aar.agents.llm.queued_sandbox import QueuedSandbox
    from aar.agents.research_sandbox import open_agent_sandbox
    from aar.agents.tools import ToolSet
    from aar.paths import tasks_dir
    from aar.sandbox.layout import DATA
    from aarlab.client import AarClient

    token = os.environ.get(args.token_env)
    if not token:
        raise SystemExit(f"no agent token: set ${args.token_env}")
    run_dir = Path(args.run_dir).resolve()
    agent_dir = run_dir / "agents" / args.name
    workspace = agent_dir / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    url = args.server_url or os.environ.get("AAR_SERVER_URL")
    uds = None if url else str(args.uds or run_dir / "server.sock")
    client = AarClient(url, uds=uds, token=token)
    task = args.task or client.tasks()[0]["task"]
    meta = client.task(task)
    data_dir = Path(args.data_dir or tasks_dir(meta.get("size", "full")) / task / "main" / "public").resolve()
    base, _ = open_agent_sandbox(args.sandbox, agent_dir, data_dir, socket=Path(uds) if uds else None)
    sandbox: Any = base
    if (queue := slot_provider(run_dir)) is not None:
        sandbox = QueuedSandbox(sandbox, queue, args.name, log=agent_dir / "experiments.jsonl")
    audit = AuditLog(agent_dir / "audit.jsonl", args.name)
    toolset = ToolSet(sandbox, client, workspace, audit, task, env={"AAR_AGENT_TOKEN": token})
    return Agent(toolset, agent_dir, meta, _direction(args, client, args.name), base.inside(DATA))
