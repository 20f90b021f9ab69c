"""`aar report RUN_DIR`, `aar demo`, `aar resume RUN_DIR`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aarlab.w2s.baselines import __file__ as _baselines_init

BASELINES_DIR = Path(_baselines_init).parent
console = Console(stderr=True)


def all_baselines() -> list[str]:
    return sorted(p.parent.name for p in BASELINES_DIR.glob("*/run.py"))


def overseer_process(sandbox: str, slots: int, threads: int, baselines: list[str]):  # noqa: ANN201
    from aar.supervisor.config import ExtraProcess

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
        ],
    )


def write_run_report(run_dir: Path, client, task: str | None, threads: int = 1) -> dict:  # noqa: ANN001
    from aar.report.collect import collect
    from aar.report.render import write_report

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


def supervise_and_report(cfg, verify_minutes: float) -> int:  # noqa: ANN001
    """Run the team; when the agents are done, let the overseer finish (bounded), then write the report."""
    from aar.supervisor.run import Supervisor

    sup = Supervisor(cfg)
    code = 0
    try:
        sup.start()
        assert sup.server is not None
        if sup.server.url:
            console.print(f"dashboard: {sup.server.url}/?token={sup.server.admin_token}", soft_wrap=True)
        try:
            sup.wait()
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
    return code


def tasks_ready(size: str) -> bool:
    from aar.paths import tasks_dir

    root = tasks_dir(size)
    return all(
        (root / t / d / "public" / "weak").is_dir() and (root / t / d / "public" / "meta.json").exists()
        for t in ("math", "code", "world")
        for d in ("main", "heldout")
    )


def demo_cmd(
    agents: Annotated[int, typer.Option("--agents", help="searcher agents in the team")] = 9,
    minutes: Annotated[float, typer.Option("--minutes", help="wall time of the team")] = 20.0,
    run_dir: Annotated[Path | None, typer.Option("--run-dir")] = None,
    size: Annotated[str, typer.Option("--size", help="full | small | tiny")] = "full",
    sandbox: Annotated[str, typer.Option("--sandbox", help="bwrap | docker | none")] = "bwrap",
    verify_minutes: Annotated[
        float, typer.Option("--verify-minutes", help="overseer grace after the team")
    ] = 10.0,
    task: Annotated[str, typer.Option("--task", help="main task; the others are held out")] = "math",
) -> None:
    """Build the zoo if missing, run a searcher team on the main task with the overseer, write the report."""
    from aar.supervisor.config import AgentGroup, RunConfig

    if size not in ("full", "small", "tiny"):
        raise typer.BadParameter("--size must be full, small or tiny")
    if not tasks_ready(size):
        from aar.tasks.prepare import prepare

        console.print(f"building the {size} zoo and tasks (once; cached)")
        prepare(size, quiet=False)
    run_dir = (run_dir or Path("runs") / time.strftime("demo-%Y%m%d-%H%M%S")).expanduser().resolve()
    cfg = RunConfig(
        run_dir=run_dir,
        task=task,
        size=size,
        wall_time=minutes * 60,
        sandbox=sandbox,  # type: ignore[arg-type]
        agents=[AgentGroup(count=agents, kind="searcher")],
    )
    cfg.extra_processes = [overseer_process(sandbox, cfg.slots(), cfg.threads_per_job, all_baselines())]
    console.print(f"run dir: {run_dir}")
    raise typer.Exit(supervise_and_report(cfg, verify_minutes))


def resume_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with run.toml")],
    minutes: Annotated[float | None, typer.Option("--minutes", help="new wall time")] = None,
    verify_minutes: Annotated[float, typer.Option("--verify-minutes")] = 10.0,
) -> None:
    """Continue a stopped run: same agents (workspaces, budgets, forum intact), overseer queue included."""
    from aar.supervisor.config import load_config

    cfg = load_config(run_dir / "run.toml")
    if minutes is not None:
        cfg.wall_time = minutes * 60
    raise typer.Exit(supervise_and_report(cfg, verify_minutes))


def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="the run directory")],
    task: Annotated[str | None, typer.Option("--task")] = None,
) -> None:
    """(Re)write RUN_DIR/report.md, report.html and leaderboard.json (starts the run's server if needed)."""
    from aar.supervisor.config import RunConfig, load_config
    from aar.supervisor.server import start_server

    run_dir = run_dir.expanduser().resolve()
    if (run_dir / "run.toml").exists():
        cfg = load_config(run_dir / "run.toml")
    else:
        cfg = RunConfig(run_dir=run_dir, task=task or "math")
    cfg.run_dir = run_dir
    running = running_server(run_dir)
    if running is not None:
        with running as admin:
            write_run_report(run_dir, admin, task or cfg.task, cfg.threads_per_job)
        return
    handle = start_server(cfg)
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
