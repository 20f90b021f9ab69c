"""`Supervisor`: one run. Starts the server, registers and launches the agents (and any extra workers such as
the overseer), restarts crashed ones, enforces wall time and evaluation budgets, shows the live table, and
stops everything cleanly.

    sup = Supervisor(cfg, extra_processes=[ExtraProcess(name="overseer", command=[...])])
    sup.start(); sup.wait(); sup.stop()        # or sup.run() for all three with Ctrl-C / SIGTERM handling
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from aar.cluster.executor import AgentProcess, Executor, make_executor
from aar.supervisor import manifest, table
from aar.supervisor.agents import agent_command, agent_env, direction_text, register_agent
from aar.supervisor.config import AgentGroup, ExtraProcess, RunConfig
from aar.supervisor.procs import ManagedProcess, stop_all
from aar.supervisor.server import ServerHandle, start_server
from aar.supervisor.tomlw import dumps
from aarlab.client import AarClient, AarClientError

TERMINAL = ("done", "failed", "stopped", "wall_time", "budget")


class Supervisor:
    def __init__(
        self,
        cfg: RunConfig,
        *,
        extra_processes: list[ExtraProcess] | None = None,
        console: Console | None = None,
        live: bool | None = None,
        status_note: Callable[[], str] | None = None,
    ):
        self.cfg = cfg
        self.run_dir = cfg.run_dir = Path(cfg.run_dir).expanduser().resolve()
        self.extra_specs = list(cfg.extra_processes) + list(extra_processes or [])
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal if live is None else live
        self.status_note = status_note  # one more line under the live table (e.g. a build under way)
        self.server: ServerHandle | None = None
        self.agents: dict[str, AgentProcess] = {}
        self.groups: dict[str, AgentGroup] = {}
        self.directions = cfg.agent_directions()
        self.extras: dict[str, ManagedProcess] = {}
        self.executor: Executor | None = None
        self.queue = None  # the local executor's compute queue
        self.deadline: float | None = None
        self.started_at: float | None = None
        self.stop_requested = threading.Event()
        self._usage: dict[str, dict[str, Any]] = {}
        self._usage_at = 0.0
        self._stopped = False
        self._failed_start = False
        self._last_result = 0  # newest result finding id seen by drain()
        self.interrupted = False  # a stop request / Ctrl-C ended the run early: manifest status "stopped"
        self.mlflow = None  # aar.supervisor.mlflow_log.MlflowSync when run.toml has an [mlflow] table

    # -- start ------------------------------------------------------------------------------------

    def start(self) -> None:
        cfg, run_dir = self.cfg, self.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "logs").mkdir(exist_ok=True)
        if not (run_dir / "run.toml").exists():
            (run_dir / "run.toml").write_text(dumps(cfg.model_dump(mode="json")))
        self.started_at = time.time()
        self.deadline = None if cfg.wall_time is None else self.started_at + cfg.wall_time
        self.executor = make_executor(cfg)
        self.queue = getattr(self.executor, "queue", None)
        doc = manifest.begin(run_dir, cfg)
        try:
            self.server = start_server(cfg)
        except BaseException:
            self._failed_start = True
            raise
        try:
            self.executor.start(sorted({g.task or cfg.task for _, g in cfg.agent_specs()}))
            with self.admin() as admin:
                for name, group in cfg.agent_specs():
                    token = register_agent(admin, run_dir, name, direction_text(cfg, self.directions[name]))
                    self.groups[name] = group
                    self.agents[name] = self._agent_process(name, group, token)
            for spec in self.extra_specs:
                self.add_process(spec)
            for p in self.agents.values():
                p.start()
            if cfg.mlflow is not None:
                self._start_mlflow(doc)
        except BaseException:
            self._failed_start = True
            self.stop()  # never leave a half-started run behind
            raise

    def _start_mlflow(self, doc: dict) -> None:
        from aar.supervisor.mlflow_log import MlflowLogger, MlflowSync

        assert self.cfg.mlflow is not None
        logger = MlflowLogger(self.run_dir, self.cfg.mlflow, doc)
        self.mlflow = MlflowSync(logger, self.admin, self.cfg.mlflow.interval)
        self.mlflow.start()

    def admin(self) -> AarClient:
        assert self.server is not None, "start() first"
        return self.server.client()

    def _agent_process(self, name: str, group: AgentGroup, token: str) -> AgentProcess:
        assert self.server is not None and self.executor is not None
        remote = self.executor.kind != "local"
        if remote and not self.server.url:
            raise RuntimeError("executor \"ray\" needs the server on TCP (a server.url or server.host/port)")
        url = self.server.url if remote or not self.server.uds else None

        def command() -> list[str]:
            return agent_command(
                self.cfg,
                name,
                group,
                self.directions[name],
                server_url=url,
                uds=None if remote else (self.server.uds if self.server else None),
                deadline=self.deadline,
            )

        return self.executor.agent_process(
            name,
            group.task or self.cfg.task,
            command,
            agent_env(self.cfg, token) | self.executor.worker_env(),
            self.run_dir / "agents" / name / "agent.log",
        )

    def _fill(self, text: str) -> str:
        """Fill the {python} {run_dir} {url} {uds} {task} {tasks_dir} placeholders (other braces are kept)."""
        assert self.server is not None
        values = {
            "python": sys.executable,
            "run_dir": str(self.run_dir),
            "url": self.server.url or "",
            "uds": self.server.uds or "",
            "task": self.cfg.task,
            "tasks_dir": str(self.cfg.resolved_tasks_dir()),
        }
        for k, v in values.items():
            text = text.replace("{" + k + "}", v)
        return text

    def add_process(self, spec: ExtraProcess) -> ManagedProcess:
        """Start an extra worker (e.g. the overseer) that lives and dies with the run."""
        assert self.server is not None, "start() first"
        env = {k: self._fill(v) for k, v in spec.env.items()}
        if self.executor is not None:
            env |= self.executor.worker_env()
        if spec.admin:
            env["AAR_ADMIN_TOKEN"] = self.server.admin_token
        if self.server.url:
            env.setdefault("AAR_SERVER_URL", self.server.url)
        if self.server.uds:
            env.setdefault("AAR_SERVER_UDS", self.server.uds)
        if self.cfg.gpus:  # the one device list: the overseer's re-runs get GPU slots and sandboxes too
            env.setdefault("AAR_COMPUTE_DEVICES", ",".join(self.cfg.gpus))
        p = ManagedProcess(
            spec.name,
            [self._fill(c) for c in spec.command],
            self.run_dir / "logs" / f"{spec.name}.log",
            env=env,
            max_restarts=self.cfg.max_restarts if spec.restart else 0,
        )
        self.extras[spec.name] = p
        p.start()
        return p

    # -- supervise --------------------------------------------------------------------------------

    def usage(self, max_age: float = 2.0) -> dict[str, dict[str, Any]]:
        """Per agent: evaluations used on the run's task(s) and best public PGR (from the server)."""
        if time.time() - self._usage_at < max_age:
            return self._usage
        out: dict[str, dict[str, Any]] = {}
        try:
            with self.admin() as admin:
                subs = admin.submissions()
        except (AarClientError, OSError):
            return self._usage
        for s in subs:
            u = out.setdefault(str(s.get("agent")), {"evaluations": 0, "best_pgr": None})
            u["evaluations"] += 1
            pgr = s.get("pgr")
            if isinstance(pgr, int | float) and (u["best_pgr"] is None or pgr > u["best_pgr"]):
                u["best_pgr"] = float(pgr)
        self._usage, self._usage_at = out, time.time()
        return out

    def step(self) -> bool:
        """One supervision pass; True while some agent is still working."""
        for p in [*self.agents.values(), *self.extras.values()]:
            p.poll()
        if self.server is not None and self.server.process is not None:
            self.server.process.poll()
        active = [p for p in self.agents.values() if p.state not in TERMINAL]
        if self.deadline is not None and time.time() >= self.deadline and active:
            stop_all(active, "wall_time", self.cfg.stop_grace)
        if self.cfg.budget_per_agent:
            usage = self.usage()
            over = [
                p
                for p in active
                if p.alive() and usage.get(p.name, {}).get("evaluations", 0) >= self.cfg.budget_per_agent
            ]
            if over:
                stop_all(over, "budget", self.cfg.stop_grace)
        return any(p.state not in TERMINAL for p in self.agents.values())

    def rows(self) -> list[dict[str, Any]]:
        usage = self.usage()
        counts = self.executor.counts() if self.executor else {}
        out = []
        for name, p in self.agents.items():
            u = usage.get(name, {})
            out.append(
                {
                    "agent": name,
                    "kind": self.groups[name].kind,
                    "direction": self.directions[name],
                    "state": p.state,
                    "node": self.executor.node_of(p) if self.executor else None,
                    "restarts": p.restarts,
                    "last_action": table.last_action(self.run_dir / "agents" / name / "audit.jsonl"),
                    "evaluations": u.get("evaluations", 0),
                    "budget": self.cfg.budget_per_agent,
                    "best_pgr": u.get("best_pgr"),
                    "queue": counts.get(name, {}),
                }
            )
        return out

    def view(self) -> Any:
        elapsed = time.time() - (self.started_at or time.time())
        left = "" if self.deadline is None else f", {max(0, self.deadline - time.time()):.0f}s left"
        extras = ", ".join(f"{n}: {p.state}" for n, p in self.extras.items())
        footer = (self.executor.footer() if self.executor else "") + (f"; {extras}" if extras else "")
        from aar.cluster.costs import by_node

        if costs := table.node_costs(by_node(self.run_dir)["nodes"]):
            footer += f"\n{costs}"
        if self.status_note is not None and (note := self.status_note()):
            footer += f"\n{note}"
        return table.render(self.rows(), f"aar run {self.run_dir.name}: {elapsed:.0f}s{left}", footer)

    def wait(self, timeout: float | None = None) -> bool:
        """Supervise until every agent has finished (True) or `timeout` / a stop request (False)."""
        t_end = None if timeout is None else time.time() + timeout
        with self._maybe_live() as live:
            while True:
                working = self.step()
                if live is not None:
                    live.update(self.view())
                if not working:
                    self._usage_at = 0.0  # the last agent's final evaluations must show in rows()
                    return True
                if self.stop_requested.is_set():
                    self.interrupted = True
                    return False
                if t_end is not None and time.time() >= t_end:
                    return False
                self.stop_requested.wait(self.cfg.refresh)

    def drain(self, timeout: float | None = None) -> bool:
        """After the agents: keep supervising until the overseer has verified every result (True) or
        `timeout` (default `verify_grace`) / a stop request (False)."""
        from aar.overseer.state import overseer_idle

        timeout = self.cfg.verify_grace if timeout is None else timeout
        t_end = time.time() + timeout
        while time.time() < t_end and not self.stop_requested.is_set():
            self.step()
            if overseer_idle(self.run_dir, self._last_result_id()):
                return True
            self.stop_requested.wait(min(2.0, self.cfg.refresh * 2))
        if self.stop_requested.is_set():
            self.interrupted = True
        return False

    def _last_result_id(self) -> int:
        """The newest result finding on the server (read incrementally)."""
        try:
            with self.admin() as admin:
                while True:
                    page = admin.findings(type="result", since=self._last_result, limit=1000)
                    if not page:
                        break
                    self._last_result = max(self._last_result, *(int(f["id"]) for f in page))
        except (AarClientError, OSError):
            pass
        return self._last_result

    @contextmanager
    def _maybe_live(self) -> Iterator[Live | None]:
        if not self.live:
            yield None
            return
        with Live(self.view(), console=self.console, refresh_per_second=2, transient=True) as live:
            yield live

    # -- stop -------------------------------------------------------------------------------------

    def status(self) -> str:
        """How the run ended, for RUN_DIR/manifest.json: stopped (asked to), failed, or done."""
        if self._failed_start or any(p.state == "failed" for p in self.agents.values()):
            return "failed"
        return "stopped" if self.interrupted else "done"

    def stop(self) -> None:
        """Agents and workers get SIGTERM then SIGKILL; MLflow gets its last sync; the server last,
        gracefully, so it flushes; then the manifest records how the run ended."""
        if self._stopped:
            return
        self._stopped = True
        status = self.status()
        stop_all([*self.agents.values(), *self.extras.values()], "stopped", self.cfg.stop_grace)
        if self.executor is not None:
            self.executor.shutdown()
        release_volumes(self.run_dir)  # hard-quota workspaces of processes that were killed
        if self.mlflow is not None:
            self.mlflow.stop(status)
        if self.server is not None and self.server.process is not None:
            stop_all([self.server.process], "stopped", max(self.cfg.stop_grace, 10.0))
        manifest.end(self.run_dir, status)

    def run(self) -> int:
        """start + wait + stop, stopping cleanly on Ctrl-C or SIGTERM. Exit status 1 if an agent failed."""
        old = signal.signal(signal.SIGTERM, lambda *_: self.stop_requested.set())
        try:
            self.start()
            if self.wait() and self.cfg.verify_grace > 0 and self.extras:
                self.console.print(f"agents done; waiting up to {self.cfg.verify_grace:g}s for the overseer")
                self.drain()
        except KeyboardInterrupt:
            self.interrupted = True
            self.console.print("[yellow]interrupted: stopping agents[/]")
        finally:
            self.stop()
            signal.signal(signal.SIGTERM, old)
        if not self.live:
            for r in self.rows():
                self.console.print(
                    f"{r['agent']}: {r['state']}, {r['evaluations']} evaluations, "
                    f"best public PGR {r['best_pgr']}"
                )
        else:
            self.console.print(self.view())
        return 1 if any(p.state == "failed" for p in self.agents.values()) else 0


def release_volumes(run_dir: Path) -> None:
    """Unmount (files copied back out) every hard-quota workspace volume still mounted under `run_dir`: a
    sandbox unmounts its own when its process ends normally; a killed process leaves it mounted."""
    from aar.sandbox import quota

    root = str(Path(run_dir).resolve()) + "/"
    for point in sorted((p for p in quota.mount_points() if p.startswith(root)), key=len, reverse=True):
        if quota.image_path(Path(point)).exists():
            try:
                quota.unmount_volume(Path(point))
            except Exception as e:  # noqa: BLE001 - the rest still gets released
                print(f"could not release the workspace volume at {point}: {e}", file=sys.stderr)
