"""The same short searcher team under executor = "local" and executor = "ray": results per minute and the
overhead each experiment pays on top of its run in the sandbox.

    python benchmarks/ray_vs_local.py [--agents 2] [--ideas 3] [--seeds 0] [--nodes 1|2] [--cache DIR]
    python benchmarks/ray_vs_local.py --minutes 10 [--agents 4]     # the same team for 10 minutes each

With --minutes the agents have no idea limit: each executor's team runs until its wall time stops it,
so results per minute compare what each executor gets done in the same time.

Both runs use the tiny tasks (built once into --cache, default a fresh temporary folder), the bwrap
sandbox, one thread per experiment and as many compute slots (local) or CPUs (Ray) as the machine has
cores. Under Ray the supervisor starts a one-machine Ray cluster for the run (`--nodes 2`: a two-node
`ray.cluster_utils.Cluster` on this machine, the second node with its own empty cache). Printed per
executor: the team's wall time (start to last agent done, Ray start-up included and shown apart),
results posted, results per minute, and per experiment the mean run time inside the sandbox, the mean
time the agent waited for it end to end (`elapsed`), and their difference (the executor's overhead:
queueing, shipping the idea and outputs, staging the data view on the node). Load averages are printed:
on a shared machine every figure stretches with other work.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def team(
    run_dir: Path, tasks: Path, executor: str, agents: int, ideas: int, seeds: list[int], address: str | None,
    minutes: float | None = None,
) -> dict:
    from aar.supervisor.config import RunConfig

    cores = os.cpu_count() or 1
    return RunConfig.model_validate(
        {
            "run_dir": str(run_dir),
            "task": "math",
            "size": "tiny",
            "tasks_dir": str(tasks),
            "sandbox": "bwrap",
            "compute_slots": cores,
            "threads_per_job": 1,
            "wall_time": 1800 if minutes is None else round(minutes * 60),
            "stop_grace": 5,
            "max_restarts": 0,
            "executor": executor,
            "ray": {"address": address},
            "agents": {
                "count": agents,
                "searcher": {
                    "max_ideas": ideas if minutes is None else None,
                    "seeds": seeds,
                    "modes": ["probe"],
                },
            },
        }
    )


def measure(cfg, label: str) -> dict:  # noqa: ANN001
    from aar.supervisor.run import Supervisor

    sup = Supervisor(cfg, live=False)
    t0 = time.time()
    try:
        sup.start()
        t_started = time.time()
        limit = (cfg.wall_time or 1800) + 300
        assert sup.wait(timeout=limit), f"the team did not finish within {limit} s"
        wall = time.time() - t0
        with sup.admin() as admin:
            results = [f for f in admin.findings(limit=1000) if f["type"] == "result"]
    finally:
        sup.stop()
    runs = [
        json.loads(x)
        for a in sorted((cfg.run_dir / "agents").glob("*"))
        for x in (a / "experiments.jsonl").read_text().splitlines()
        if (a / "experiments.jsonl").exists()
    ]
    inside = [float(r["seconds"]) for r in runs]
    elapsed = [float(r["elapsed"]) for r in runs]
    out = {
        "executor": label,
        "start_seconds": t_started - t0,
        "wall_seconds": wall,
        "results": len(results),
        "results_per_minute": len(results) / (wall / 60),
        "experiments": len(runs),
        "mean_run_in_sandbox_s": statistics.mean(inside),
        "mean_elapsed_s": statistics.mean(elapsed),
        "overhead_per_experiment_s": statistics.mean(e - i for e, i in zip(elapsed, inside, strict=True)),
        "cpu_seconds": sum(float(r.get("cpu_seconds") or 0) for r in runs),
        "nodes": sorted({str(r.get("node")) for r in runs}),
        "load": load(),
    }
    print(json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=2)
    ap.add_argument("--ideas", type=int, default=3)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--nodes", type=int, default=1, choices=[1, 2])
    ap.add_argument("--minutes", type=float, default=None, help="run each team this long (no idea limit)")
    ap.add_argument(
        "--cache", type=Path, default=None, help="an AAR_CACHE holding (or to hold) the tiny tasks"
    )
    args = ap.parse_args()
    os.environ.setdefault("AAR_TASK_SECRET", "aar-benchmark-secret")
    work = Path(tempfile.mkdtemp(prefix="aar_ray_vs_local_"))
    os.environ["AAR_CACHE"] = str(args.cache or work / "cache")
    from aar.tasks.prepare import prepare

    t = time.time()
    tasks = prepare("tiny", quiet=True, jobs=2)
    print(
        f"tiny tasks ready in {time.time() - t:.0f} s under {os.environ['AAR_CACHE']} (load {load()})",
        flush=True,
    )
    seeds = [int(s) for s in args.seeds.split(",")]
    local = team(work / "local", tasks, "local", args.agents, args.ideas, seeds, None, args.minutes)
    figures = [measure(local, "local")]
    cluster = None
    address = None
    if args.nodes == 2:
        from ray.cluster_utils import Cluster

        cores = os.cpu_count() or 1
        (work / "n2-cache").mkdir()
        cluster = Cluster(
            initialize_head=True, head_node_args={"num_cpus": cores, "include_dashboard": False}
        )
        cluster.add_node(num_cpus=cores, env_vars={"AAR_NODE": "n2", "AAR_CACHE": str(work / "n2-cache")})
        cluster.wait_for_nodes()
        address = cluster.address
    try:
        cfg = team(work / "ray", tasks, "ray", args.agents, args.ideas, seeds, address, args.minutes)
        figures.append(measure(cfg, f"ray ({args.nodes} node{'s' if args.nodes > 1 else ''})"))
    finally:
        if cluster is not None:
            cluster.shutdown()
    loc, ray_ = figures
    ratio = ray_["results_per_minute"] / loc["results_per_minute"]
    print(
        f"\nresults per minute: local {loc['results_per_minute']:.2f}, {ray_['executor']} "
        f"{ray_['results_per_minute']:.2f} (ratio {ratio:.2f})"
    )
    print(
        f"overhead per experiment: local {loc['overhead_per_experiment_s']:.2f} s, {ray_['executor']} "
        f"{ray_['overhead_per_experiment_s']:.2f} s; start-up: local {loc['start_seconds']:.1f} s, "
        f"ray {ray_['start_seconds']:.1f} s"
    )


if __name__ == "__main__":
    main()
