"""The task names and their generators."""

from __future__ import annotations

from aar.tasks.code_task import CodeTask
from aar.tasks.common import TaskGenerator
from aar.tasks.math_task import MathTask
from aar.tasks.secret import derive
from aar.tasks.sizes import size_spec
from aar.tasks.world_task import WorldTask

TASKS: tuple[str, ...] = ("math", "code", "world")
DRAWS: tuple[str, ...] = ("main", "heldout")
SPLITS: tuple[str, ...] = ("train_label", "train_unlabel", "test")
KEYED_KNOWLEDGE: tuple[str, ...] = ("world",)  # tasks whose facts (and so models) depend on the secret


def generator(task: str, size: str, secret: bytes | None = None) -> TaskGenerator:
    """The task's generator. The world's facts are keyed by the task secret (the install's by default)."""
    if task == "math":
        return MathTask()
    if task == "code":
        return CodeTask()
    if task == "world":
        seed = int.from_bytes(derive("world", "facts", size, secret=secret), "big")
        return WorldTask(seed, n_people=size_spec(size).world_people)
    raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
