"""`python -m aar.agents.searcher --run-dir RUN_DIR --name NAME [...]`: the embedded offline researcher.

The agent token comes from $AAR_AGENT_TOKEN (or --token-env). The server is reached at --server-url /
$AAR_SERVER_URL, else through RUN_DIR/server.sock. Experiments go through the compute queue in
RUN_DIR/queue. Exit status 0 when it stops for a normal reason (budget, wall time, stop signal, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m aar.agents.searcher", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--task", default=None, help="task name (default: the first task the server lists)")
    p.add_argument("--direction", default=None, help="direction name (default: the one registered)")
    p.add_argument("--directions-file", type=Path, default=None, help="JSON list of directions (override)")
    p.add_argument("--server-url", default=None)
    p.add_argument("--uds", default=None, help="server Unix socket (default RUN_DIR/server.sock)")
    p.add_argument("--token-env", default="AAR_AGENT_TOKEN")
    p.add_argument("--sandbox", default="bwrap", choices=["bwrap", "docker", "none"])
    p.add_argument("--data-dir", type=Path, default=None, help="public data dir (default from the task meta)")
    p.add_argument("--slots", type=int, default=1, help="compute slots of the run's queue")
    p.add_argument("--threads", type=int, default=None, help="threads per experiment (default cores/slots)")
    p.add_argument("--devices", default=None, help="GPU ids, comma-separated: one compute slot per GPU")
    p.add_argument("--seeds", default="0", help="comma-separated seeds every idea is evaluated on")
    p.add_argument("--budget", type=int, default=None, help="evaluations this agent may spend")
    p.add_argument("--max-ideas", type=int, default=None)
    p.add_argument("--wall-time", type=float, default=None, help="seconds from start; no idea starts after")
    p.add_argument("--modes", default=None, help="allowed modes, comma-separated (default: all)")
    p.add_argument("--run-timeout", type=float, default=1800.0, help="seconds one idea run may take")
    p.add_argument("--rng-seed", type=int, default=None)
    p.add_argument("--policy", default="tpe", choices=["tpe", "local"],
                   help="tpe: Optuna TPE with paired tests (default); local: mutations around the best")
    p.add_argument(
        "--import-margin",
        type=float,
        default=0.05,
        help="build on colleagues' results within this PGR of ours",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from aar.agents.audit import AuditLog
    from aar.agents.searcher.actions import Actions
    from aar.agents.searcher.agent import SearcherAgent, SearcherConfig
    from aar.agents.searcher.directions import direction_by_name, directions_from
    from aar.agents.tools import ToolSet
    from aar.compute import ComputeQueue, devices_from_env
    from aar.paths import tasks_dir
    from aar.sandbox import Limits
    from aarlab.client import AarClient

    args = parse_args(argv)
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
    data_dir = (args.data_dir or tasks_dir(meta.get("size", "full")) / task / "main" / "public").resolve()
    directions = directions_from(
        json.loads(args.directions_file.read_text()) if args.directions_file else None
    )
    dname = args.direction
    if not dname:
        mine = [a for a in client.agents() if a.get("name") == args.name]
        registered = (mine[0].get("direction") if mine else None) or directions[0].name
        dname = registered.split(":", 1)[0].strip()  # the supervisor registers "<name>: <text>"
    direction = direction_by_name(dname, directions)

    from aar.agents.research_sandbox import open_agent_sandbox
    from aar.sandbox.layout import DATA

    local_meta = json.loads((Path(data_dir) / "meta.json").read_text())  # public: seeds and split sizes

    # no server socket inside: the searcher talks to the server from here; its commands only run ideas,
    # and an idea's sandbox must look like an overseer re-run's (which has none)
    sandbox, _ = open_agent_sandbox(
        args.sandbox, agent_dir, data_dir, socket=None,
        limits=Limits(wall_seconds=args.run_timeout + 60),
    )
    audit = AuditLog(agent_dir / "audit.jsonl", args.name)
    tools = ToolSet(sandbox, client, workspace, audit, task)
    queue = ComputeQueue(
        run_dir / "queue",
        args.slots,
        threads=args.threads,
        devices=devices_from_env(args.devices),
    )

    remote, bundle = _remote_runs(args)  # before our handlers: joining Ray installs its own
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cfg = SearcherConfig(
        name=args.name,
        task=task,
        data_dir=sandbox.inside(DATA),
        seeds=[int(s) for s in args.seeds.split(",") if s.strip()],
        budget=args.budget,
        max_ideas=args.max_ideas,
        deadline=None if args.wall_time is None else time.time() + args.wall_time,
        modes=args.modes.split(",") if args.modes else None,
        run_timeout=args.run_timeout,
        import_margin=args.import_margin,
        rng_seed=args.rng_seed if args.rng_seed is not None else sum(map(ord, args.name)),
        policy=args.policy,
        extra_seeds=[int(s) for s in local_meta.get("seeds", [])],
        n_public=int(local_meta["n"]["test"]) // 2 if "n" in local_meta else None,
        n_test=int(local_meta["n"]["test"]) if "n" in local_meta else None,
        experiments_log=agent_dir / "experiments.jsonl",
    )
    agent = SearcherAgent(
        cfg, Actions(tools, workspace), queue, direction, stop=stop, remote=remote, bundle=bundle
    )
    reason = agent.run()
    print(
        json.dumps(
            {
                "agent": args.name,
                "end_reason": reason,
                "ideas": agent.state.ideas,
                "evaluations": agent.state.evaluations,
            }
        ),
        flush=True,
    )
    return 0


def _remote_runs(args: argparse.Namespace) -> tuple[object | None, dict | None]:
    """Under the Ray executor ($AAR_EXECUTOR=ray): idea runs become Ray tasks on the task's data bundle."""
    if os.environ.get("AAR_EXECUTOR") != "ray":
        return None, None
    from aar.cluster.experiment import RayRuns

    runs = RayRuns(
        os.environ["AAR_RAY_ADDRESS"],
        os.environ["AAR_RAY_RUN"],
        sandbox=args.sandbox,
        threads=args.threads or 1,
        gpus=float(os.environ.get("AAR_RAY_GPUS", "0")),
        timeout=args.run_timeout,
        node_id=os.environ.get("AAR_RAY_NODE_ID"),  # the agent's own node, as its LLM peers' experiments
    )
    return runs, json.loads(os.environ["AAR_DATA_BUNDLE"])


if __name__ == "__main__":
    sys.exit(main())
