"""`aar zoo ...` and `aar w2s ...` commands."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from aar.cli_errors import CliError

zoo_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                      help="The CPU model zoo (small pretrained transformers).")
w2s_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                      help="Weak-to-strong tasks, weak artifacts and baselines.")

SIZES = ("full", "small", "tiny")
TASK_NAMES = ("math", "code", "world")  # aar.tasks.registry.TASKS, spelled here to keep this module light

SIZE_HELP = "full (the real CPU testbed), small (minutes; in the W2S regime) or tiny (seconds; tests)"
SizeOpt = Annotated[str, typer.Option("--size", help=SIZE_HELP)]
TaskList = Annotated[list[str] | None, typer.Option("--task", help="a task (repeatable); default all")]
Threads = Annotated[int, typer.Option("--threads", help="torch threads", min=1)]
Jobs = Annotated[int | None, typer.Option("--jobs", help="tasks built at once (default: cores // 2)", min=1)]


def _size(size: str) -> str:
    if size not in SIZES:
        raise CliError(f"--size must be one of {', '.join(SIZES)}, not {size!r}")
    return size


def _tasks(task: list[str] | None) -> tuple[str, ...] | None:
    for t in task or []:
        if t not in TASK_NAMES:
            raise CliError(f"unknown task {t!r}; choose from {', '.join(TASK_NAMES)}")
    return tuple(dict.fromkeys(task)) if task else None


@zoo_app.command("build")
def zoo_build(size: SizeOpt = "full", task: TaskList = None,
              force: Annotated[bool, typer.Option(help="rebuild even if cached")] = False,
              jobs: Jobs = None) -> None:
    """Pretrain the weak and strong model of each task (cached; the same weights on every machine)."""
    size, tasks = _size(size), _tasks(task)
    from aar.tasks.schedule import BuildError
    from aar.tasks.zoo.build import build_zoo

    t0 = time.time()
    try:
        root = build_zoo(size, tasks, force=force, jobs=jobs)
    except BuildError as e:
        raise CliError(f"zoo build failed: {e}") from e
    typer.echo(f"zoo ready at {root} ({time.time() - t0:.1f}s)")


@w2s_app.command("prepare")
def w2s_prepare(size: SizeOpt = "full", task: TaskList = None, jobs: Jobs = None) -> None:
    """Build tasks (both draws), weak artifacts per seed and the fixed baselines (zoo first if missing)."""
    size, tasks = _size(size), _tasks(task)
    from aar.tasks.prepare import prepare
    from aar.tasks.schedule import BuildError

    t0 = time.time()
    try:
        root = prepare(size, tasks, jobs=jobs)
    except BuildError as e:
        raise CliError(f"prepare failed: {e}") from e
    typer.echo(f"tasks ready at {root} ({time.time() - t0:.1f}s)")


@w2s_app.command("baselines")
def w2s_baselines(task: Annotated[str, typer.Option("--task")],
                  mode: Annotated[str, typer.Option("--mode", help="probe or finetune")] = "probe",
                  seeds: Annotated[int | None, typer.Option("--seeds", help="first N seeds", min=1)] = None,
                  size: SizeOpt = "full", as_json: Annotated[bool, typer.Option("--json")] = False,
                  idea: Annotated[list[str] | None, typer.Option("--idea", help="only these")] = None,
                  threads: Threads = 2) -> None:
    """Run every baseline idea over seeds and print accuracy and PGR against the fixed baselines."""
    size = _size(size)
    _tasks([task])
    if mode not in ("probe", "finetune"):
        raise CliError(f"--mode must be probe or finetune, not {mode!r}")
    from aarlab.w2s.baselines import BASELINES

    for name in idea or []:
        if name not in BASELINES:
            raise CliError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")

    from rich.console import Console
    from rich.table import Table

    from aar.paths import tasks_dir
    from aar.tasks.baseline_scores import baselines_table
    from aar.tasks.prepare import prepare
    from aar.tasks.readiness import task_ready
    from aar.tasks.schedule import BuildError

    if not task_ready(tasks_dir(size), task, (mode,)):
        try:
            prepare(size, (task,), quiet=as_json)
        except BuildError as e:
            raise CliError(f"prepare failed: {e}") from e
    rows = baselines_table(task, mode, seeds, size, tuple(idea) if idea else None, threads=threads)
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    table = Table(title=f"W2S baselines: {task} ({mode}, size {size})")
    for col in ("idea", "weak_acc", "strong_acc", "transfer_acc", "pgr", "pgr_se", "seconds"):
        table.add_column(col, justify="left" if col == "idea" else "right")

    def f(v: float | None, d: int = 3) -> str:
        return "-" if v is None else f"{v:.{d}f}"

    for r in rows:
        table.add_row(r["idea"], f(r["weak_acc"]), f(r["strong_acc"]),
                      f"{f(r['transfer_acc'])}±{f(r['transfer_acc_se'])}", f(r["pgr"]), f(r["pgr_se"]),
                      f(r["seconds"], 1))
    Console().print(table)
