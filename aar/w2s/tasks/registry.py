"""The task names and their generators."""

from __future__ import annotations

from aar.w2s.sizes import size_spec
from aar.w2s.tasks.code_task import CodeTask
from aar.w2s.tasks.common import TaskGenerator
from aar.w2s.tasks.math_task import MathTask
from aar.w2s.tasks.world_task import WorldTask

TASKS: tuple[str, ...] = ("math", "code", "world")
DRAWS: tuple[str, ...] = ("main", "heldout")
SPLITS: tuple[str, ...] = ("train_label", "train_unlabel", "test")
TASK_SEED = 0


def generator(task: str, size: str) -> TaskGenerator:
    if task == "math":
        return MathTask(TASK_SEED)
    if task == "code":
        return CodeTask(TASK_SEED)
    if task == "world":
        return WorldTask(TASK_SEED, n_people=size_spec(size).world_people)
    raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
