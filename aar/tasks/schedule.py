"""The build of the zoo and tasks: one pipeline per task, each stage in a worker process, tasks in parallel.

Per task, in three phases:
1. its missing zoo models (`python -m aar.tasks.zoo.worker`, fixed numerics), then its files, weak
   artifacts and reference-mode (probe) baselines (`python -m aar.tasks.prepare_worker`): the task is
   then ready to score;
2. its blank model (a zoo worker again: only the overseer's knowledge-removed ablation needs it): the task
   is then `ready`, everything a claim's check runs on;
3. the other modes' baselines (finetune), which no probe-mode run or check waits for.
Each phase is queued after that phase of every task, so on a machine that builds one task at a time
(`jobs`, default cores // ZOO_THREADS) a demo's main task comes first, then what the overseer needs of
every task, then the rest. What a task has already got is not built again; a per-task file lock keeps two
builds from writing the same task. Progress: `Build.status()` (what `aar.tasks.progress` shows) and, for
other processes, `<tasks root>/.building/<pid>.json` (read by `aar.tasks.readiness.pending_tasks`).

    build = Build("full", ("math", "code", "world"), missing_only=True)
    build.start(); build.wait_ready("math"); ...; build.wait()      # or build.run() for all of it
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from aar.paths import tasks_dir
from aar.tasks.events import parse
from aar.tasks.numerics import ZOO_THREADS, pinned_env, thread_env, wait_policy
from aar.tasks.readiness import BUILDING, DRAWS, draw_ready, task_ready
from aarlab.paths import cache_dir

MODES = ("probe", "finetune")
REFERENCE = "probe"  # the zoo tasks' reference mode: its baselines make a task scorable
PHASES = ("score", "blank", "rest")


class BuildError(RuntimeError):
    """A task's build failed; the message names the task, the error and the worker's log."""


@dataclass
class Stage:
    task: str
    name: str  # corpus | weak model | strong model | task files | weak labels | <mode> ceiling
    worker: str  # zoo | prepare
    steps: int = 0
    cost: float = 0.0  # relative compute of a model stage (for the time estimate before it starts)
    state: str = "queued"  # queued | running | done | failed
    step: int = 0
    loss: float | None = None
    started: float | None = None
    finished: float | None = None


def _ceiling_mode(stage: str) -> str | None:
    """The mode of a `<mode> ceiling` or `held-out <mode> ceiling` stage (None for other stages)."""
    return stage.removeprefix("held-out ").removesuffix(" ceiling") if stage.endswith(" ceiling") else None


def default_jobs() -> int:
    return max(1, (os.cpu_count() or 1) // ZOO_THREADS)


def _model_cost(size: str, task: str, role: str) -> float:
    from aar.tasks.sizes import size_spec

    m = size_spec(size).model_spec(task, role)
    return float(m.steps * m.batch_size * m.pack * m.layers * m.d_model**2)


class Build:
    def __init__(self, size: str, tasks: tuple[str, ...], modes: tuple[str, ...] = MODES, *,
                 zoo_only: bool = False, force_zoo: bool = False, missing_only: bool = False,
                 jobs: int | None = None, blank_tasks: tuple[str, ...] | None = None,
                 spin_tasks: tuple[str, ...] | None = None) -> None:
        """`blank_tasks`: the tasks whose blank model to build (default all; a demo needs only its main
        task's, the one its claims are verified on). `spin_tasks`: the tasks whose models may pretrain
        with spinning threads before `background` or `foreground` is called (default all; a demo's main
        task only, since the others go on once its team runs, where spinning threads crawl)."""
        from aar.tasks.zoo.blank import ROLE as BLANK
        from aar.tasks.zoo.build import missing_roles

        self.size, self.tasks, self.modes = size, tasks, modes
        self.zoo_only, self.force_zoo, self.missing_only = zoo_only, force_zoo, missing_only
        self.jobs = max(1, jobs or default_jobs())
        self.root = tasks_dir(size)
        self.stages: list[Stage] = []
        self.retrain: dict[str, bool] = {}
        self.roles: dict[str, list[str]] = {}
        for task in tasks:
            roles = missing_roles(task, size, force_zoo)
            if blank_tasks is not None and task not in blank_tasks:
                roles = [r for r in roles if r != BLANK]
            self.retrain[task] = any(r != BLANK for r in roles)  # new weights: its files are stale
            self.roles[task] = roles
            models = [r for r in roles if r != BLANK]
            if models:
                self.stages.append(Stage(task, "corpus", "zoo"))
            for role in models:
                self.stages.append(Stage(task, f"{role} model", "zoo", cost=_model_cost(size, task, role)))
            if not zoo_only:
                self.stages += self._prepare_plan(task)
            if BLANK in roles:  # only the overseer's ablation needs it: after what the team needs
                cost = _model_cost(size, task, "strong")
                self.stages.append(Stage(task, f"{BLANK} model", "zoo", cost=cost))
        self.task_state = {t: "queued" for t in tasks}
        self.errors: dict[str, str] = {}
        self.started_at: float | None = None
        self._ready = {t: threading.Event() for t in tasks}
        self._phases = {t: {p: threading.Event() for p in PHASES} for t in tasks}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._procs: set[subprocess.Popen] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._done = threading.Event()
        self._nice = 0  # added to the workers' CPU priority (`background`)
        self._spin = set(tasks if spin_tasks is None else spin_tasks)  # may spin (until `background`)
        self._checkable: set[str] = set()  # tasks `ready`: all a check of a claim runs on is built
        self._restartable: dict[subprocess.Popen, str] = {}  # zoo workers whose threads sleep -> task
        self._restarted: set[subprocess.Popen] = set()
        self._status_path = self.root / BUILDING / f"{os.getpid()}.json"
        self._status_at = 0.0
        self.log_dir = cache_dir() / "logs"

    def _prepare_plan(self, task: str) -> list[Stage]:
        from aar.tasks.sizes import size_spec

        seeds = len(size_spec(self.size).seeds)
        modes = sorted(self.modes, key=lambda m: m != "probe")
        if self.missing_only and not self.retrain[task] and all(
                draw_ready(self.root / task / d / "public", ()) for d in DRAWS):
            from aar.tasks.private import has_ceiling_predictions

            meta = json.loads((self.root / task / "main" / "public" / "meta.json").read_text())
            heldout, all_seeds = self.root / task / "heldout" / "public", size_spec(self.size).seeds
            # a mode with its baselines may still lack the held-out predictions (a prepare cut short between
            # the two, an older cache): without them the server has no beyond-strong check on that draw
            have = meta.get("baselines", {})
            return [Stage(task, f"{m} ceiling" if m not in have else f"held-out {m} ceiling", "prepare",
                          steps=seeds)
                    for m in modes if m not in have or not has_ceiling_predictions(heldout, m, all_seeds)]
        return [Stage(task, "task files", "prepare"),
                Stage(task, "weak labels", "prepare", steps=len(DRAWS) * seeds),
                *[Stage(task, f"{m} ceiling", "prepare", steps=seeds) for m in modes]]

    # -- running ----------------------------------------------------------------------------------

    def start(self) -> Build:
        self.started_at = time.time()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._write_status(force=True)
        self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="aar-build")
        futures = [self._pool.submit(self._run_phase, t, phase) for phase in PHASES for t in self.tasks]

        def finish() -> None:
            for f in futures:
                f.exception()
            self._pool.shutdown(wait=True)
            self._status_path.unlink(missing_ok=True)
            self._done.set()

        threading.Thread(target=finish, name="aar-build-finish", daemon=True).start()
        return self

    def _prepare_cmd(self, task: str, modes: list[str], missing_only: bool = False) -> list[str]:
        cmd = [sys.executable, "-m", "aar.tasks.prepare_worker", "--size", self.size, "--task", task,
               "--modes", ",".join(modes)]
        keep = missing_only or (self.missing_only and not self.retrain[task])
        return [*cmd, "--missing-only"] if keep else cmd

    def _run_phase(self, task: str, phase: str) -> None:
        """One phase of `task`, after its earlier ones (a failed one skips the rest)."""
        done = self._phases[task]
        i = PHASES.index(phase)
        for earlier in PHASES[:i]:
            done[earlier].wait()
        try:
            if task in self.errors:
                return
            if self._stop.is_set():
                raise BuildError("stopped")
            prep = {s.name for s in self.stages if s.task == task and s.worker == "prepare"}
            others = [m for m in self.modes if m != REFERENCE and m in {_ceiling_mode(n) for n in prep}]
            with self._task_lock(task):
                self._set_task(task, "running" if phase != "rest" else "ready; building other modes")
                if phase == "score":
                    models = [r for r in self.roles[task] if r != "blank"]
                    if models:
                        self._zoo_worker(task, models)
                    if any(_ceiling_mode(n) not in others for n in prep):
                        modes = [m for m in self.modes if m == REFERENCE] or list(self.modes[:1])
                        self._worker(task, "prepare", self._prepare_cmd(task, modes), thread_env())
                elif phase == "blank" and "blank" in self.roles[task]:
                    self._zoo_worker(task, ["blank"])
                elif phase == "rest" and others:  # the task's files are there now: only what it lacks
                    # every mode: one with its baseline gets only its held-out predictions, where missing
                    cmd = self._prepare_cmd(task, list(self.modes), missing_only=True)
                    self._worker(task, "prepare", cmd, thread_env())
            if phase == "blank":
                if not self.zoo_only and not task_ready(self.root, task):
                    raise BuildError(f"{task}: its phases ended without a task ready to score")
                with self._lock:
                    self._checkable.add(task)
                self._set_task(task, "ready")  # everything a check of a claim on it runs on
            if phase == "rest":
                if not self.zoo_only and not task_ready(self.root, task, self.modes):
                    raise BuildError(f"{task}: the build ended without a ready task")
                self._set_task(task, "done")
            if phase == "score":
                self._ready[task].set()
        except Exception as e:  # noqa: BLE001 - recorded; wait() raises it as one BuildError
            with self._lock:
                self.errors[task] = str(e) if isinstance(e, BuildError) else f"{type(e).__name__}: {e}"
                for s in self.stages:
                    if s.task == task and s.state == "running":
                        s.state = "failed"
            self._set_task(task, "failed")
            self._ready[task].set()
        finally:
            done[phase].set()

    @contextmanager
    def _task_lock(self, task: str) -> Iterator[None]:
        path = cache_dir() / "locks" / f"{self.size}-{task}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as fh:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    self._set_task(task, "waiting for another build")
                    if self._stop.wait(1.0):
                        raise BuildError("stopped") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _zoo_worker(self, task: str, roles: list[str]) -> None:
        from aar.tasks.zoo.build import missing_roles

        while roles:
            cmd = [sys.executable, "-m", "aar.tasks.zoo.worker", "--size", self.size, "--task", task,
                   "--roles", ",".join(roles)]
            # Threads spin while the build has the cores to itself; once a team runs (`background`) they
            # share them, where spinning threads of a low-priority process crawl, so they sleep.
            policy = wait_policy() if task in self._spin else "PASSIVE"
            with self._lock:
                if self._nice or task not in self._spin:  # `background` may have come meanwhile
                    policy = "PASSIVE"
            try:
                self._worker(task, "zoo", cmd, pinned_env(policy),
                             restartable=policy == "PASSIVE" and not self.force_zoo)
                return
            except _Restarted:  # `foreground`: again, with what is still missing (same weights)
                roles = [r for r in roles if r in missing_roles(task, self.size)]

    def _worker(self, task: str, worker: str, cmd: list[str], env: dict[str, str],
                restartable: bool = False) -> None:
        log_path = self.log_dir / f"build-{self.size}-{task}.log"
        with open(log_path, "a") as log:
            log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(cmd)}\n")
            log.flush()
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                    env={**os.environ, **env}, text=True, start_new_session=True)
            with self._lock:
                self._procs.add(proc)
                if restartable:
                    self._restartable[proc] = task
                if self._nice:  # before torch has loaded: the threads it starts inherit the main thread's
                    _renice(proc.pid, self._nice)
                if self._stop.is_set():  # `stop` came after its snapshot of the workers
                    _killpg(proc, signal.SIGKILL)
            error = None
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    event = parse(line)
                    if event is None:
                        log.write(line)
                        continue
                    error = event.get("error", error)
                    self._on_event(task, worker, event)
                rc = proc.wait()
            finally:
                with self._lock:
                    self._procs.discard(proc)
                    self._restartable.pop(proc, None)
                    restarted = proc in self._restarted
                    self._restarted.discard(proc)
        if self._stop.is_set():
            raise BuildError("stopped")
        if restarted:
            raise _Restarted
        if rc != 0:
            raise BuildError(f"{task}: {error or f'worker exited with status {rc}'} (log: {log_path})")

    def _on_event(self, task: str, worker: str, event: dict) -> None:
        now = time.time()
        with self._lock:
            mine = [s for s in self.stages if s.task == task and s.worker == worker]
            if "stage" in event:
                stage = next((s for s in mine if s.name == event["stage"]), None)
                if stage is None:  # a stage the plan did not foresee: show it all the same
                    stage = Stage(task, str(event["stage"]), worker)
                    self.stages.insert(self.stages.index(mine[-1]) + 1 if mine else len(self.stages), stage)
                stage.state, stage.started = "running", now
                stage.steps = int(event.get("steps") or stage.steps)
            elif "step" in event or "done" in event:
                stage = next((s for s in mine if s.state == "running"), None)
                if stage is not None:
                    stage.step = int(event.get("step", stage.step))
                    stage.loss = event.get("loss", stage.loss)
                    if "done" in event:
                        stage.state, stage.finished = "done", now
                        stage.step = stage.steps
        if event.get("ready") and task_ready(self.root, task):
            self._ready[task].set()
        self._write_status()

    def _set_task(self, task: str, state: str) -> None:
        with self._lock:
            self.task_state[task] = state
        self._write_status(force=True)

    def _write_status(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._status_at < 1.0:
            return
        self._status_at = now
        with self._lock:
            doc = {"pid": os.getpid(), "size": self.size, "tasks": dict(self.task_state),
                   "checkable": sorted(self._checkable),
                   "stages": [asdict(s) for s in self.stages], "updated": now}
        # Worker threads report at once: each writes its own temporary file, then renames it in.
        self._status_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._status_path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(doc))
        tmp.replace(self._status_path)

    # -- waiting and stopping -----------------------------------------------------------------------

    def done(self) -> bool:
        return self._done.is_set()

    def checks_ready(self) -> bool:
        """Every task is `ready` (what a check of a claim runs on) or has failed; other modes may follow."""
        with self._lock:
            return self.done() or all(t in self._checkable or self.task_state[t] in ("done", "failed")
                                      for t in self.tasks)

    def is_ready(self, task: str) -> bool:
        return self._ready[task].is_set() and task not in self.errors

    def wait_ready(self, task: str, display: bool = True) -> None:
        """Until `task` is ready to score (its reference baselines written); BuildError if it failed."""
        self._wait(lambda: self._ready[task].is_set(), display)
        if task in self.errors:
            raise BuildError(self.errors[task])

    def wait(self, display: bool = False) -> None:
        """Until every task is built; one BuildError naming each failed task otherwise."""
        self._wait(self._done.is_set, display)
        if self.errors:
            raise BuildError("; ".join(self.errors[t] for t in self.tasks if t in self.errors))

    def _wait(self, until, display: bool) -> None:  # noqa: ANN001
        try:
            if not display:
                while not until():
                    time.sleep(0.2)
                return
            from rich.console import Console
            from rich.live import Live

            from aar.tasks.progress import render, summary

            console = Console(stderr=True)
            if not console.is_terminal:  # a log or CI: a line every 30 s instead of a live table
                last = 0.0
                while not until():
                    if time.time() - last >= 30:
                        last = time.time()
                        console.print(summary(self) or "building", soft_wrap=True)
                    time.sleep(0.5)
                console.print(render(self))
                return
            with Live(render(self), console=console, refresh_per_second=2, transient=False) as live:
                while not until():
                    time.sleep(0.5)
                    live.update(render(self))
                live.update(render(self))
        except KeyboardInterrupt:
            self.stop()
            raise

    def run(self, quiet: bool = False) -> None:
        self.start()
        self.wait(display=not quiet)

    def background(self, nice: int = 10) -> None:
        """Lower the CPU priority of the rest of the build (running workers and later ones) by `nice`: once
        the main task is ready, the team's experiments come first and the build takes the idle time."""
        with self._lock:
            self._nice = nice
            self._spin.clear()
            for p in self._procs:
                _renice(p.pid, nice)

    def foreground(self, restart_below: float = 0.5) -> list[str]:
        """The team has ended: the rest of the build gets the cores back. Its workers return to this
        process's niceness where the user may lower it (root), later ones may spin, and when the cores are
        idle now a model being pretrained with sleeping threads (`background`) that is less than
        `restart_below` done is started again with spinning ones: the same weights (no result depends on
        how threads wait) in a third of the time. Returns the tasks whose model was restarted."""
        spin = wait_policy() == "ACTIVE"
        with self._lock:
            self._nice = 0
            self._spin = set(self.tasks)
            procs = list(self._procs)
            running = {s.task: s for s in self.stages if s.worker == "zoo" and s.state == "running"}
            restart = []
            for proc, task in self._restartable.items() if spin else ():
                stage = running.get(task)
                done = stage.step / stage.steps if stage is not None and stage.steps else 0.0
                if done < restart_below:
                    self._restarted.add(proc)
                    restart.append((proc, task))
        own = os.getpriority(os.PRIO_PROCESS, 0)
        for p in procs:
            _renice(p.pid, own, lower=True)
        for p, _ in restart:
            _killpg(p, signal.SIGTERM)
        return [t for _, t in restart]

    def worker_niceness(self) -> list[int]:
        """The CPU niceness of each running worker process (its main thread)."""
        with self._lock:
            out = []
            for p in self._procs:
                try:
                    out.append(os.getpriority(os.PRIO_PROCESS, p.pid))
                except OSError:
                    continue
            return out

    def stop(self, grace: float = 5.0) -> None:
        """Stop every worker (SIGTERM, then SIGKILL after `grace` s); what finished stays cached."""
        self._stop.set()
        with self._lock:
            procs = list(self._procs)
        for p in procs:
            _killpg(p, signal.SIGTERM)
        deadline = time.time() + grace
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                _killpg(p, signal.SIGKILL)
                p.wait()
        self._done.wait(grace + 5.0)
        self._status_path.unlink(missing_ok=True)

    def status(self) -> dict:
        with self._lock:
            return {"tasks": dict(self.task_state), "stages": [asdict(s) for s in self.stages],
                    "errors": dict(self.errors)}


class _Restarted(Exception):
    """A zoo worker stopped by `foreground` to start again with spinning threads."""


def _killpg(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _renice(pid: int, nice: int, lower: bool = False) -> None:
    """Set the niceness of every thread of `pid` (Linux niceness is per thread; torch's threads exist
    already) to at least `nice` (to `nice` itself with `lower`, where allowed: root); a process that has
    ended is skipped."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            now = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, nice if lower else max(nice, now))
        except OSError:
            continue
