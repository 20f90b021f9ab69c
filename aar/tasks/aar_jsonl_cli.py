"""`aar w2s import-aar` and `aar w2s prepare-imported`: the published AAR data as an aar task (GPU
reference setting).

`import-aar` carves the held-out draw (`aar.tasks.aar_jsonl`) and, unless `--no-prepare`, computes what
`aar w2s prepare` computes for the CPU tasks (`aar.tasks.prepare_imported`): weak artifacts per seed and
draw and the fixed baselines. The task is moved into the tasks dir only when every step succeeded; a
strong ceiling that does not beat the weak supervisor by the margin is one line and exit 1, nothing stored.
`prepare-imported` prepares a task imported with `--no-prepare`, in place (written only on success).
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aar.cli_errors import CliError, one_line
from aar.tasks.aar_jsonl import HELDOUT_FRACTION, AarFormatError, CeilingError, dataset_dirs, import_aar

if TYPE_CHECKING:
    from rich.console import Console

REFERENCE_WEAK = "Qwen/Qwen1.5-0.5B-Chat"
REFERENCE_STRONG = "Qwen/Qwen3-4B-Base"
MODES = ("probe", "finetune")

ModeOpt = Annotated[list[str] | None, typer.Option("--mode", help="baseline mode(s); the first is the "
                                                                   "reference mode (default finetune)")]
MinGapOpt = Annotated[float, typer.Option("--min-gap", help="the strong ceiling must beat the weak "
                                                            "supervisor by at least this (and 2 s.e.)")]
ThreadsOpt = Annotated[int, typer.Option(help="torch threads")]


def _modes(mode: list[str] | None) -> tuple[str, ...]:
    for m in mode or []:
        if m not in MODES:
            raise CliError(f"--mode must be one of {', '.join(MODES)}, not {m!r}")
    return tuple(mode or ["finetune"])


def _fail(console: Console, e: Exception) -> CliError:
    """The one-line error of the command (`aar.cli.main` prints it)."""
    return CliError(one_line(e))


def import_aar_cmd(
    src: Annotated[Path, typer.Argument(help="an AAR dataset dir (train_label/train_unlabel/test.jsonl) "
                                             "or a parent of several (chat, math, code)")],
    name: Annotated[str | None, typer.Option(help="task name (default: the dataset dir's name)")] = None,
    weak: Annotated[str, typer.Option(help="weak model: HF name or path")] = REFERENCE_WEAK,
    strong: Annotated[str, typer.Option(help="strong model: HF name or path")] = REFERENCE_STRONG,
    out: Annotated[Path | None, typer.Option(help="tasks root (default: aar's tasks dir for --size)")] = None,
    size: Annotated[str, typer.Option(help="size label recorded in meta.json / default tasks dir")] = "full",
    seeds: Annotated[str, typer.Option(help="comma-separated seeds")] = "0,1,2",
    force: Annotated[bool, typer.Option(help="overwrite an existing task of that name")] = False,
    prepare: Annotated[bool, typer.Option(help="compute weak artifacts and fixed baselines (without them "
                                               "the server cannot score the task)")] = True,
    heldout_fraction: Annotated[float, typer.Option(help="share of train_unlabel and of test (per subset) "
                                                         "carved into the overseer's held-out draw")]
    = HELDOUT_FRACTION,
    mode: ModeOpt = None,
    min_gap: MinGapOpt = 0.05,
    threads: ThreadsOpt = 1,
) -> None:
    """Import the published AAR W2S data (labeled_data/<dataset>) as an aar task with a held-out draw."""
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError as e:
        raise CliError(f"--seeds must be comma-separated integers, not {seeds!r}") from e
    if not seed_list:
        raise CliError("--seeds names no seed")
    if size not in ("full", "tiny"):
        raise CliError(f"--size must be full or tiny, not {size!r}")
    if not src.exists():
        raise CliError(f"{src}: no such file or folder")
    modes = _modes(mode)
    from rich.console import Console

    from aar.paths import tasks_dir

    console = Console()
    root = out or tasks_dir(size)
    step = None
    if prepare:
        import torch

        from aar.tasks.prepare_imported import prepare_imported

        torch.set_num_threads(max(1, threads))
        step = partial(prepare_imported, modes=modes, threads=threads, min_gap=min_gap, console=console)
    try:
        dirs = dataset_dirs(src)
        if name and len(dirs) > 1:
            raise AarFormatError(f"{src} holds {len(dirs)} datasets ({', '.join(d.name for d in dirs)}); "
                                 "--name needs a single dataset dir")
        for d in dirs:
            t0 = time.time()
            pub = import_aar(d, name or d.name, root, weak, strong, seed_list, size, force, heldout_fraction,
                             modes[0], prepare=step)
            console.print(f"imported {d} -> {pub.parents[1]} (main + heldout, {time.time() - t0:.1f}s)"
                          + ("" if prepare else f"; not prepared: run `aar w2s prepare-imported "
                             f"{pub.parents[1].name} --tasks-dir {root}`"), soft_wrap=True)
    except (AarFormatError, FileExistsError, CeilingError, OSError) as e:
        raise _fail(console, e) from e


def prepare_imported_cmd(
    task: Annotated[str, typer.Argument(help="an imported task's name")],
    tasks_dir_: Annotated[Path | None, typer.Option("--tasks-dir", help="tasks root (default: aar's tasks "
                                                                        "dir for --size)")] = None,
    size: Annotated[str, typer.Option(help="which default tasks dir")] = "full",
    mode: ModeOpt = None,
    min_gap: MinGapOpt = 0.05,
    threads: ThreadsOpt = 1,
) -> None:
    """Weak artifacts and fixed baselines of a task imported with --no-prepare (written only on success)."""
    from rich.console import Console

    from aar.paths import tasks_dir

    console = Console()
    task_dir = (tasks_dir_ or tasks_dir(size)) / task
    if not (task_dir / "main" / "public" / "meta.json").is_file():
        raise _fail(console, FileNotFoundError(f"no task {task!r} under {task_dir.parent}"))
    import torch

    from aar.tasks.prepare_imported import prepare_imported

    torch.set_num_threads(max(1, threads))
    try:
        prepare_imported(task_dir, _modes(mode), threads, min_gap, console)
    except CeilingError as e:
        raise _fail(console, e) from e
