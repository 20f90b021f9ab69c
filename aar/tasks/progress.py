"""The live view of a build: one row per stage (what it builds, how far, how long it has left).

A running stage's time left comes from its own pace. A model not started yet is estimated from the
pace of the models already trained on this machine, scaled by its compute (steps x batch x layers x
width^2) and, once its task's first model has run, by that task's own pace: "~" marks such guesses.
Stages with no pace yet (a baseline not started) show "?".
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from aar.tasks.numerics import ZOO_THREADS

if TYPE_CHECKING:
    from aar.tasks.schedule import Build, Stage


def _pace(stages: list[Stage], now: float) -> dict[str, float]:
    """Seconds per unit of model cost, per task (and "*" over all tasks), from models seen running."""
    out: dict[str, list[float]] = {}
    for s in stages:
        if not s.cost or s.started is None or not s.steps:
            continue
        frac = 1.0 if s.state == "done" else s.step / s.steps
        if frac < 0.02:
            continue
        secs = ((s.finished or now) - s.started) / frac
        out.setdefault(s.task, []).append(secs / s.cost)
        out.setdefault("*", []).append(secs / s.cost)
    return {k: sum(v) / len(v) for k, v in out.items()}


def time_left(stage: Stage, pace: dict[str, float], now: float) -> tuple[float | None, bool]:
    """(seconds left or None, whether it is an estimate from other stages)."""
    if stage.state in ("done", "failed"):
        return 0.0, False
    if stage.state == "running" and stage.steps and stage.step > 0 and stage.started is not None:
        return (now - stage.started) / stage.step * (stage.steps - stage.step), False
    if stage.cost:
        k = pace.get(stage.task) or pace.get("*")
        if k is not None:
            done = stage.step / stage.steps if stage.steps else 0.0
            return k * stage.cost * (1 - done), True
    return None, False


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def task_time_left(build: Build, task: str, now: float | None = None) -> tuple[float, bool]:
    """Seconds left of a task's stages that have a time (known), and whether some have none (unknown)."""
    now = now or time.time()
    pace = _pace(build.stages, now)
    total, unknown = 0.0, False
    for s in build.stages:
        if s.task != task:
            continue
        left, _ = time_left(s, pace, now)
        if left is None:
            unknown = True
        else:
            total += left
    return total, unknown


def render(build: Build) -> Table:
    now = time.time()
    pace = _pace(build.stages, now)
    title = (f"building the {build.size} zoo and tasks: {build.jobs} task(s) at a time, "
             f"{ZOO_THREADS} threads each")
    table = Table(title=title, title_justify="left", expand=False)
    for col in ("task", "stage", "progress", "loss", "elapsed", "left"):
        table.add_column(col, justify="left" if col in ("task", "stage") else "right")
    with build._lock:
        stages = list(build.stages)
        task_state = dict(build.task_state)
    for s in stages:
        left, guessed = time_left(s, pace, now)
        style = {"done": "green", "failed": "red", "running": "bold"}.get(s.state, "dim")
        progress = f"{s.step}/{s.steps}" if s.steps else ""
        if s.state in ("queued", "failed") or (s.state == "done" and not s.steps):
            progress = s.state if s.state != "done" else "done"
        elapsed = _fmt((s.finished or now) - s.started) if s.started else ""
        shown = "" if s.state == "done" else ("~" if guessed else "") + _fmt(left)
        table.add_row(s.task, s.name, progress, "" if s.loss is None else f"{s.loss:.3f}", elapsed, shown,
                      style=style)
    notes = []
    for task in build.tasks:
        state = task_state.get(task, "")
        if state in ("done", "failed"):
            notes.append(f"{task}: {state}")
            continue
        total, unknown = task_time_left(build, task, now)
        notes.append(f"{task}: {state}, {'at least ' if unknown else ''}{_fmt(total)} left")
    table.caption = Text("; ".join(notes), style="dim")
    table.caption_justify = "left"
    return table


def summary(build: Build | None) -> str:
    """One line: what the build is doing and how long it has left ("" when it is done and fine)."""
    if build is None:
        return ""
    now = time.time()
    pace = _pace(build.stages, now)
    with build._lock:
        stages = list(build.stages)
        task_state = dict(build.task_state)
        errors = dict(build.errors)
    if build.done():
        return "build: failed: " + "; ".join(errors.values()) if errors else ""
    running = [s for s in stages if s.state == "running"]
    parts = []
    for s in running:
        left, guessed = time_left(s, pace, now)
        step = f" {s.step}/{s.steps}" if s.steps else ""
        parts.append(f"{s.task} {s.name}{step} ({'~' if guessed else ''}{_fmt(left)} left)")
    queued = [t for t, st in task_state.items() if st == "queued"]
    if queued:
        parts.append("then " + ", ".join(queued))
    return "building: " + "; ".join(parts) if parts else "building"
