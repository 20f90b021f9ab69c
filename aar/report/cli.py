"""`aar report RUN_DIR`, `aar demo`, `aar resume RUN_DIR`."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aar.cli_errors import CliError, one_line

if TYPE_CHECKING:
    from rich.console import Console

    from aar.tasks.schedule import Build

SIZES = ("full", "small", "tiny")
SANDBOXES = ("bwrap", "docker", "none")
TASK_NAMES = ("math", "code", "world")


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def all_baselines() -> list[str]:
    """The baseline ideas the overseer verifies: every one but the ceilings, which read the true labels
    and so cannot run as an idea in a sandbox (their figures come from the build)."""
    from aar.methods import NOT_A_METHOD
    from aarlab.w2s.baselines import BASELINES_DIR

    return sorted(p.parent.name for p in BASELINES_DIR.glob("*/run.py") if p.parent.name not in NOT_A_METHOD)


def overseer_process(sandbox: str, slots: int, threads: int, baselines: list[str]):  # noqa: ANN201
    from aar.supervisor.config import ExtraProcess
    from aarlab.paths import cache_dir

    return ExtraProcess(
        name="overseer",
        command=[
            "{python}",
            "-m",
            "aar.overseer",
            "--run-dir",
            "{run_dir}",
            "--tasks-dir",
            "{tasks_dir}",
            "--sandbox",
            sandbox,
            "--slots",
            str(slots),
            "--threads",
            str(threads),
            "--concurrency",
            str(slots),
            "--baselines",
            ",".join(baselines),
            "--baseline-task",
            "{task}",
            "--baseline-runs",
            str(cache_dir() / "overseer" / "baseline-runs"),
        ],
    )


def write_run_report(run_dir: Path, client, task: str | None, threads: int = 1) -> dict:  # noqa: ANN001
    from aar.report.collect import collect
    from aar.report.render import write_report

    console = _console()
    data = collect(run_dir, client, task, threads)
    paths = write_report(data, run_dir)
    best, base = data.get("best_verified"), data.get("best_baseline")
    console.print(
        f"[bold]report[/]: {paths['report.html']}  {paths['report.md']}  {paths['leaderboard.json']}"
    )
    if best:
        console.print(f"best verified PGR {best['verified_pgr']:.3f} ({best['agent']}: {best['title']})")
    if base:
        console.print(f"best baseline {base['name']}: verified PGR {base['verified_pgr']:.3f}")
    if data.get("margin") is not None:
        console.print(f"margin {data['margin']:+.3f} PGR; gap to 1.0 closed {100 * data['gap_closed']:.0f}%")
    return data


def supervise_and_report(cfg, verify_minutes: float, build: Build | None = None) -> int:  # noqa: ANN001
    """Run the team; when the agents are done, let the overseer finish (bounded), then write the report.

    With a `build` still under way (a demo's held-out tasks), the overseer's grace is counted from the
    later of the team's end and the build's end: it closes claims (generalization runs) only once every
    task is built, having checked them on the main task meanwhile."""
    from aar.supervisor.run import Supervisor
    from aar.tasks.progress import summary

    console = _console()
    sup = Supervisor(cfg, status_note=(lambda: summary(build)) if build is not None else None)
    code = 0

    def _terminate(*_: object) -> None:  # SIGTERM stops the run like Ctrl-C: report written, all stopped
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, _terminate)
    try:
        sup.start()
        assert sup.server is not None
        if sup.server.url:
            console.print(f"dashboard: {sup.server.url}/?token={sup.server.admin_token}", soft_wrap=True)
        try:
            sup.wait()
            if build is not None and not build.done():
                restarted = build.foreground()  # the team's cores are free: the build takes them
                again = f" ({', '.join(restarted)}: model restarted with the cores free)" if restarted else ""
                if not build.checks_ready():
                    console.print(f"agents done; the held-out tasks are still being built: {summary(build)}"
                                  + again)
                # the claims' checks wait for every task (models, blank model, probe baselines); the other
                # modes' baselines go on being built during the grace (what is done by the report is kept)
                while not build.checks_ready():
                    sup.step()
                    time.sleep(2.0)
                build.background()  # the overseer's checks come first again; the other modes yield to them
            if build is not None and build.errors:
                console.print(f"[yellow]held-out tasks not built[/]: {'; '.join(build.errors.values())}")
            console.print(
                f"agents done; waiting up to {verify_minutes:g} min for the overseer to finish verifying"
            )
            sup.drain(verify_minutes * 60)
        except KeyboardInterrupt:
            sup.interrupted = True
            console.print("[yellow]interrupted: writing the report with what is verified so far[/]")
        for p in sup.agents.values():
            if p.alive():
                p.stop("stopped", cfg.stop_grace)
        with sup.admin() as admin:
            write_run_report(sup.run_dir, admin, cfg.task, cfg.threads_per_job)
        code = 1 if any(p.state == "failed" for p in sup.agents.values()) else 0
    finally:
        sup.stop()
        signal.signal(signal.SIGTERM, old_term)
    return code


def demo_cmd(
    agents: Annotated[int, typer.Option("--agents", help="searcher agents in the team", min=1, max=1000)] = 9,
    minutes: Annotated[float, typer.Option("--minutes", help="wall time of the team", min=0.1)] = 20.0,
    run_dir: Annotated[Path | None, typer.Option("--run-dir")] = None,
    size: Annotated[str, typer.Option("--size", help="full | tiny")] = "full",
    sandbox: Annotated[str, typer.Option("--sandbox", help="bwrap | docker | none")] = "bwrap",
    verify_minutes: Annotated[
        float, typer.Option("--verify-minutes", help="overseer grace after the team", min=0)
    ] = 10.0,
    task: Annotated[str, typer.Option("--task", help="main task; the others are held out")] = "math",
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="tasks built at once (default: cores // 2)", min=1)
    ] = None,
) -> None:
    """Build what is missing, run a searcher team on the main task with the overseer, write the report.

    The team starts as soon as the main task is built; the held-out tasks are built alongside it."""
    if size not in SIZES:
        raise CliError(f"--size must be one of {', '.join(SIZES)}, not {size!r}")
    if sandbox not in SANDBOXES:
        raise CliError(f"--sandbox must be one of {', '.join(SANDBOXES)}, not {sandbox!r}")
    if task not in TASK_NAMES:
        raise CliError(f"unknown task {task!r}; choose from {', '.join(TASK_NAMES)}")
    run_dir = (run_dir or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")).expanduser().resolve()

    from pydantic import ValidationError

    from aar.supervisor.config import AgentGroup, RunConfig
    from aar.supervisor.preflight import PreflightError, check_run

    try:
        cfg = RunConfig(
            run_dir=run_dir,
            task=task,
            size=size,  # type: ignore[arg-type]
            wall_time=minutes * 60,
            sandbox=sandbox,  # type: ignore[arg-type]
            agents=[AgentGroup(count=agents, kind="searcher")],
        )
        check_run(cfg, tasks_built=False, fresh=True)
    except ValidationError as e:
        from aar.cli_errors import validation_message

        raise CliError(validation_message(e)) from e
    except PreflightError as e:
        raise CliError(str(e)) from e
    cfg.extra_processes = [overseer_process(sandbox, cfg.slots(), cfg.threads_per_job, all_baselines())]

    from aar.tasks.progress import summary
    from aar.tasks.schedule import Build, BuildError

    console = _console()
    t0 = time.time()
    # the held-out tasks get no blank model: the knowledge-removed ablation runs on the claim's own task
    build = Build(size, (task, *(t for t in TASK_NAMES if t != task)), missing_only=True, jobs=jobs,
                  blank_tasks=(task,), spin_tasks=(task,)).start()
    try:
        to_build = any(s.task == task for s in build.stages)
        if to_build:
            console.print(f"building what the {size} testbed lacks (once; cached under the aar cache); "
                          f"the team starts when {task} is ready")
        build.wait_ready(task, display=to_build)
        build.background()  # the held-out tasks take the CPU the team leaves
        console.print(f"{task} ready after {time.time() - t0:.0f}s; starting the team "
                      f"({'held-out tasks: ' + summary(build) if not build.done() else 'everything built'})")
        console.print(f"run dir: {run_dir}")
        code = supervise_and_report(cfg, verify_minutes, build)
    except BuildError as e:
        raise CliError(f"build failed: {e}") from e
    except RuntimeError as e:  # the server did not come up: its log has the why
        raise CliError(f"run did not start: {one_line(str(e).splitlines()[0])}") from e
    finally:
        if not build.done():
            build.stop()
    raise typer.Exit(code)


def resume_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with run.toml")],
    minutes: Annotated[float | None, typer.Option("--minutes", help="new wall time", min=0.1)] = None,
    verify_minutes: Annotated[float, typer.Option("--verify-minutes", min=0)] = 10.0,
) -> None:
    """Continue a stopped run: same agents (workspaces, budgets, forum intact), overseer queue included."""
    from aar.supervisor.preflight import PreflightError, check_run, load_run_config, run_folder

    try:
        folder = run_folder(run_dir)
        cfg = load_run_config(folder / "run.toml")
        cfg.run_dir = folder
        check_run(cfg)
    except PreflightError as e:
        raise CliError(str(e)) from e
    if running_server(folder) is not None:
        raise CliError(f"{folder} is running now (its server answers): stop it before resuming")
    if minutes is not None:
        cfg.wall_time = minutes * 60
    try:
        code = supervise_and_report(cfg, verify_minutes)
    except RuntimeError as e:
        raise CliError(f"run did not start: {one_line(str(e).splitlines()[0])}") from e
    raise typer.Exit(code)


def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="the run directory")],
    task: Annotated[str | None, typer.Option("--task")] = None,
) -> None:
    """(Re)write RUN_DIR/report.md, report.html and leaderboard.json (starts the run's server if needed)."""
    from aar.supervisor.preflight import PreflightError, load_run_config, run_folder

    try:
        run_dir = run_folder(run_dir)
        cfg = load_run_config(run_dir / "run.toml")
    except PreflightError as e:
        raise CliError(str(e)) from e
    if not (run_dir / "admin_token").is_file():
        raise CliError(f"{run_dir} has no server state yet (no admin_token): nothing to report")
    cfg.run_dir = run_dir
    running = running_server(run_dir)
    if running is not None:
        with running as admin:
            write_run_report(run_dir, admin, task or cfg.task, cfg.threads_per_job)
        return
    from aar.supervisor.server import start_server

    try:
        handle = start_server(cfg)
    except RuntimeError as e:
        raise CliError(f"the run's server did not start: {one_line(str(e).splitlines()[0])}") from e
    try:
        with handle.client() as admin:
            write_run_report(run_dir, admin, task or cfg.task, cfg.threads_per_job)
    finally:
        if handle.process is not None:
            handle.process.stop("stopped", 10.0)


def running_server(run_dir: Path):  # noqa: ANN201
    """An admin client of the run's server when one is already up (its server.json names a live pid)."""
    import os

    from aarlab.client import AarClient, AarClientError

    try:
        info = json.loads((run_dir / "server.json").read_text())
        os.kill(int(info["pid"]), 0)
        token = (run_dir / "admin_token").read_text().strip()
    except (OSError, ValueError, KeyError):
        return None
    client = AarClient(None if info.get("uds") else info.get("url"), uds=info.get("uds"), token=token)
    try:
        client.health()
    except (AarClientError, OSError):
        client.close()
        return None
    return client
