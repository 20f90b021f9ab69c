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


def build_agent(args: argparse.Namespace) -> Agent:
    from aar.agents.audit import AuditLog
    from aar.agents.llm.queued_sandbox import QueuedSandbox
    from aar.agents.research_sandbox import open_agent_sandbox
    from aar.agents.tools import ToolSet
    from aar.compute import ComputeQueue, devices_from_env
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
    slots = int(os.environ.get("AAR_COMPUTE_SLOTS", "0") or 0)
    queue_root = os.environ.get("AAR_COMPUTE_ROOT") or str(run_dir / "queue")
    threads = int(os.environ["OMP_NUM_THREADS"]) if os.environ.get("OMP_NUM_THREADS") else None
    log = agent_dir / "experiments.jsonl"
    if os.environ.get("AAR_EXECUTOR") == "ray":  # experiments hold CPUs (and GPUs) of this node from Ray
        from aar.cluster.slots import RaySlots

        ray_slots = RaySlots(
            os.environ["AAR_RAY_ADDRESS"],
            threads=threads or 1,
            gpus=float(os.environ.get("AAR_RAY_GPUS", "0") or 0),
            node_id=os.environ.get("AAR_RAY_NODE_ID"),
        )
        sandbox = QueuedSandbox(sandbox, ray_slots, args.name, log=log)
    elif slots > 0 or os.environ.get("AAR_COMPUTE_ROOT"):
        queue = ComputeQueue(queue_root, max(1, slots), threads=threads, devices=devices_from_env())
        sandbox = QueuedSandbox(sandbox, queue, args.name, log=log)
    audit = AuditLog(agent_dir / "audit.jsonl", args.name)
    toolset = ToolSet(sandbox, client, workspace, audit, task, env={"AAR_AGENT_TOKEN": token})
    return Agent(toolset, agent_dir, meta, _direction(args, client, args.name), base.inside(DATA))
