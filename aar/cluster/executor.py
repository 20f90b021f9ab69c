"""The executor interface: where a run's agents live and where their experiments (idea runs, overseer
re-runs) run. `local`: agents are child processes of the supervisor and experiments share the
machine's compute queue (`aar.compute`). `ray`: agents are Ray actors (`aar.cluster.agent_host`) and
experiments Ray tasks (`aar.cluster.experiment`) placed by Ray's scheduler by num_cpus / num_gpus; no
filesystem is shared (data and models travel as content-addressed blobs, agent folders are pulled to
the head every `ray.sync_interval` seconds and sent with every (re)start).

    ex = make_executor(cfg)
    ex.start(tasks)                            # after the server is up
    p = ex.agent_process(name, task, command_fn, env, log_path)   # start/poll/alive/signal/finish, state
    ex.worker_env()                            # what agents and the overseer need to reach the executor
    ex.shutdown()
"""

from __future__ import annotations

import hashlib
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from aar.supervisor.config import RunConfig
from aar.supervisor.procs import ManagedProcess


class AgentProcess(Protocol):
    name: str
    state: str
    restarts: int
    exit_codes: list[int]

    def start(self) -> None: ...
    def poll(self) -> str: ...
    def alive(self) -> bool: ...
    def signal(self, sig: int) -> None: ...
    def finish(self) -> None: ...


class Executor(Protocol):
    kind: str

    def start(self, tasks: list[str]) -> None: ...
    def agent_process(
        self, name: str, task: str, command_fn: Callable[[], list[str]], env: dict[str, str], log_path: Path
    ) -> AgentProcess: ...
    def worker_env(self) -> dict[str, str]: ...
    def node_of(self, p: Any) -> str | None: ...
    def counts(self) -> dict[str, dict[str, int]]: ...
    def footer(self) -> str: ...
    def shutdown(self) -> None: ...


def run_key(run_dir: Path) -> str:
    """A name for the run that every node agrees on (its folders in node caches, its store's name)."""
    return f"{Path(run_dir).name}-{hashlib.sha256(str(Path(run_dir).resolve()).encode()).hexdigest()[:10]}"


def make_executor(cfg: RunConfig) -> Executor:
    return RayExecutor(cfg) if cfg.executor == "ray" else LocalExecutor(cfg)


class LocalExecutor:
    kind = "local"

    def __init__(self, cfg: RunConfig):
        from aar.compute import ComputeQueue

        self.cfg = cfg
        self.queue = ComputeQueue(
            cfg.run_dir / "queue", cfg.slots(), threads=cfg.threads_per_job, devices=cfg.gpus
        )

    def start(self, tasks: list[str]) -> None:
        pass

    def agent_process(
        self, name: str, task: str, command_fn: Callable[[], list[str]], env: dict[str, str], log_path: Path
    ) -> AgentProcess:
        return LocalAgentProcess(
            name, command_fn(), log_path, env=env, max_restarts=self.cfg.max_restarts, command_fn=command_fn
        )

    def worker_env(self) -> dict[str, str]:
        return {}

    def node_of(self, p: Any) -> str | None:
        from aar.cluster.node import node_name

        return node_name()

    def counts(self) -> dict[str, dict[str, int]]:
        return self.queue.counts()

    def footer(self) -> str:
        running = sum(c.get("running", 0) for c in self.counts().values())
        return f"compute {running}/{self.cfg.slots()} slots busy"

    def shutdown(self) -> None:
        pass


def record_placement(folder: Path, node: str, restart: int, t: float, node_id: str | None = None) -> None:
    """One line of RUN_DIR/agents/<name>/placements.jsonl: where a (re)start of the agent ran (`node_id`:
    its Ray node, so the overseer can re-check the agent's claims on the machine they were made on)."""
    folder.mkdir(parents=True, exist_ok=True)
    rec: dict = {"t": t, "node": node, "restart": restart}
    if node_id:
        rec["node_id"] = node_id
    with open(folder / "placements.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")


class LocalAgentProcess(ManagedProcess):
    """A `ManagedProcess` that records each (re)start on this host, as the Ray executor does per node."""

    def start(self) -> None:
        from aar.cluster.node import node_name

        super().start()
        record_placement(self.log_path.parent, node_name(), self.restarts, self.started_at or time.time())


class RayExecutor:
    kind = "ray"

    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        self.key = run_key(cfg.run_dir)
        self.address: str | None = None
        self.store: Any = None
        self.bundles: dict[str, dict] = {}
        self.placed: dict[str, str] = {}
        self.queue = None

    def start(self, tasks: list[str]) -> None:
        import ray

        from aar.cluster.store import connect, packer, start_store

        connect(self.cfg.ray.address)
        self.address = ray.get_runtime_context().gcs_address
        self.store = start_store(self.key)
        pack = packer(self.store)
        for task in tasks:
            self.bundles[task] = pack.bundle(self.cfg.resolved_tasks_dir() / task / "main" / "public")

    def agent_process(
        self, name: str, task: str, command_fn: Callable[[], list[str]], env: dict[str, str], log_path: Path
    ) -> AgentProcess:
        bundle = self.bundles[task]
        data_dir = str(self.cfg.resolved_tasks_dir() / task / "main" / "public")
        return RayAgentProcess(
            name,
            command_fn,
            {**env, "AAR_DATA_BUNDLE": json.dumps(bundle)},
            self.cfg.run_dir,
            data_dir,
            bundle,
            self.key,
            max_restarts=self.cfg.max_restarts,
            sync_interval=self.cfg.ray.sync_interval,
            placed=self.placed,
        )

    def worker_env(self) -> dict[str, str]:
        assert self.address is not None, "start() first"
        out = {"AAR_EXECUTOR": "ray", "AAR_RAY_ADDRESS": self.address, "AAR_RAY_RUN": self.key}
        if self.cfg.ray.gpus_per_run:
            out["AAR_RAY_GPUS"] = str(self.cfg.ray.gpus_per_run)
        return out

    def node_of(self, p: Any) -> str | None:
        return getattr(p, "node", None)

    def counts(self) -> dict[str, dict[str, int]]:
        return {}

    def footer(self) -> str:
        import ray

        try:
            total, free = ray.cluster_resources(), ray.available_resources()
            nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        except Exception as e:  # noqa: BLE001 - the footer must not stop the run
            return f"ray: {e}"
        cpus = total.get("CPU", 0)
        used = cpus - free.get("CPU", 0)
        line = f"ray {self.address}: {nodes} nodes, {used:g}/{cpus:g} CPUs busy"
        if total.get("GPU"):
            line += f", {total['GPU'] - free.get('GPU', 0):g}/{total['GPU']:g} GPUs busy"
        return line

    def shutdown(self) -> None:
        import ray

        if ray.is_initialized():
            if self.store is not None:
                try:
                    ray.kill(self.store)
                except Exception:  # noqa: BLE001 - already gone with its node
                    pass
            ray.shutdown()


class RayAgentProcess:
    """An agent on the cluster, with the state machine of `ManagedProcess`: restarts after a crash (or
    a lost node) go to another live node when there is one, with the agent's folder as last pulled."""

    def __init__(
        self,
        name: str,
        command_fn: Callable[[], list[str]],
        env: dict[str, str],
        run_dir: Path,
        data_dir: str,
        bundle: dict,
        key: str,
        *,
        max_restarts: int = 0,
        sync_interval: float = 5.0,
        restart_delay: float = 1.0,
        placed: dict[str, str] | None = None,
    ):
        self.name, self.command_fn, self.env = name, command_fn, env
        self.run_dir, self.data_dir, self.bundle, self.key = Path(run_dir), data_dir, bundle, key
        self.folder = self.run_dir / "agents" / name
        self.max_restarts, self.sync_interval, self.restart_delay = max_restarts, sync_interval, restart_delay
        self.state = "pending"
        self.restarts = 0
        self.exit_codes: list[int] = []
        self.node: str | None = None
        self.node_id: str | None = None
        self.pid: int | None = None
        self.started_at: float | None = None
        self.actor: Any = None
        self.placed = placed if placed is not None else {}  # agent -> node id, shared by the run's agents
        self._synced = 0.0
        self._restart_at: float | None = None

    # -- start ------------------------------------------------------------------------------------

    def _command(self) -> tuple[list[str], dict[str, bytes]]:
        """The command with head paths as placeholders, and the run-level files it names."""
        run_dir = str(self.run_dir)
        argv, files = [], {}
        for arg in self.command_fn():
            if arg.startswith(run_dir + "/") and not arg.startswith(str(self.folder)) and Path(arg).is_file():
                files[str(Path(arg).relative_to(self.run_dir))] = Path(arg).read_bytes()
            argv.append(arg.replace(self.data_dir, "{data_dir}").replace(run_dir, "{run_dir}"))
        return argv, files

    def _strategy(self) -> Any:
        """Spread agents: the live node holding fewest of the run's agents, never the one this agent
        just left when another is up."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        alive = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))
        choice = [n for n in alive if n != self.node_id] or alive
        if not choice:
            return "DEFAULT"
        load = {n: sum(1 for who in self.placed.values() if who == n) for n in choice}
        return NodeAffinitySchedulingStrategy(min(choice, key=lambda n: (load[n], n)), soft=False)

    def start(self) -> None:
        import ray

        from aar.cluster.agent_host import NOT_SHIPPED, AgentHost
        from aar.cluster.bundles import pack_dir

        self.folder.mkdir(parents=True, exist_ok=True)
        argv, files = self._command()
        cls = ray.remote(num_cpus=0, max_restarts=0)(AgentHost)
        self.actor = cls.options(scheduling_strategy=self._strategy()).remote(self.key, self.name)
        info = ray.get(
            self.actor.start.remote(
                argv, self.env, pack_dir(self.folder, skip=NOT_SHIPPED), files, self.bundle
            )
        )
        self.node, self.node_id, self.pid = info["node"], info["node_id"], info["pid"]
        self.placed[self.name] = self.node_id
        self.started_at = self._synced = time.time()
        self.state = "running"
        record_placement(self.folder, self.node, self.restarts, self.started_at, self.node_id)

    # -- supervise --------------------------------------------------------------------------------

    def _actor_poll(self) -> int | None:
        """The agent's exit status, None while it runs; -9 when its actor (or node) is gone."""
        import ray

        if self.actor is None:
            return -9
        try:
            return ray.get(self.actor.poll.remote(), timeout=60)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
            # an actor that only answers late (busy, e.g. packing a huge workspace) is killed, not just
            # forgotten: else its agent would run on beside the restarted copy, with the same token
            self._kill_actor()
            return -9

    def _kill_actor(self) -> None:
        import ray

        try:
            ray.kill(self.actor, no_restart=True)
        except Exception:  # noqa: BLE001 - an actor already gone
            pass
        self.actor = None

    def sync(self) -> bool:
        """Pull the agent's folder from its node to the head; False when the node cannot be reached."""
        import ray

        from aar.cluster.agent_host import restore

        if self.actor is None:
            return False
        try:
            blob = ray.get(self.actor.snapshot.remote(), timeout=120)
        except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
            return False
        restore(self.folder, blob)
        self._synced = time.time()
        return True

    def _end(self) -> int | None:
        """Reap the agent on its node, pull its folder one last time, release the actor."""
        import ray

        rc = None
        if self.actor is not None:
            try:
                rc = ray.get(self.actor.reap.remote(), timeout=60)
            except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
                self._kill_actor()
            self.sync()
            if self.actor is not None:
                ray.kill(self.actor)
            self.actor = None
        return rc

    def poll(self) -> str:
        if self.state == "running":
            rc = self._actor_poll()
            if rc is None and time.time() - self._synced >= self.sync_interval:
                self.sync()
            if rc is not None:
                self._end()
                self.exit_codes.append(rc)
                if rc == 0:
                    self.state = "done"
                elif self.restarts < self.max_restarts:
                    self.state, self._restart_at = "restarting", time.time() + self.restart_delay
                else:
                    self.state = "failed"
        if self.state == "restarting" and self._restart_at is not None and time.time() >= self._restart_at:
            self.restarts += 1
            self.start()
        return self.state

    def alive(self) -> bool:
        return self.actor is not None and self._actor_poll() is None

    def signal(self, sig: int) -> None:
        import ray

        if self.actor is not None:
            try:
                ray.get(self.actor.signal.remote(int(sig)), timeout=30)
            except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError):
                pass

    def finish(self) -> None:
        if self.actor is None:
            return
        if self.alive():
            self.signal(signal.SIGKILL)
        rc = self._end()
        if rc is not None and (not self.exit_codes or self.exit_codes[-1] != rc):
            self.exit_codes.append(rc)

    def kill_node_side(self) -> None:
        """Kill the agent's actor as a lost node would (its agent dies with it); the next poll restarts it."""
        import ray

        if self.actor is not None:
            ray.kill(self.actor)

    def stop(self, reason: str = "stopped", grace: float = 10.0) -> None:
        from aar.supervisor.procs import stop_all

        stop_all([self], reason, grace)
