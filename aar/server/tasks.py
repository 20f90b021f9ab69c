"""Task registry: public metadata for everyone, private labels kept in server memory only.

Reads the `<task>/main/{public,private}` layout of docs/contracts.md. Labels never leave this module
except as aggregate scores (see `scoring.py`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCORED_DRAW = "main"


@dataclass(frozen=True)
class TaskData:
    name: str
    meta: dict
    weak_acc: float
    strong_acc: float
    labels: dict[str, np.ndarray]  # split -> uint8 labels
    public_idx: np.ndarray  # indices of the public half of test
    private_idx: np.ndarray


def load_task(task_dir: Path) -> TaskData:
    draw = task_dir / SCORED_DRAW
    meta = json.loads((draw / "public" / "meta.json").read_text())
    base = meta["baselines"][meta["reference_mode"]]
    raw = json.loads((draw / "private" / "labels.json").read_text())
    labels = {split: np.asarray(vals, dtype=np.uint8) for split, vals in raw.items()}
    mask = np.asarray(json.loads((draw / "private" / "test_public_mask.json").read_text()), dtype=bool)
    if mask.shape != labels["test"].shape:
        raise ValueError(
            f"{task_dir}: test_public_mask length {mask.size} != test labels {labels['test'].size}"
        )
    return TaskData(
        name=task_dir.name,
        meta=meta,
        weak_acc=float(base["weak_acc"]),
        strong_acc=float(base["strong_acc"]),
        labels=labels,
        public_idx=np.flatnonzero(mask),
        private_idx=np.flatnonzero(~mask),
    )


class TaskRegistry:
    """Loads every task under `root` that has a `main` draw; rescans (at most every 2 s) on a miss."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tasks: dict[str, TaskData] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self._last_scan = 0.0
        self.scan()

    def scan(self) -> None:
        with self._lock:
            self._last_scan = time.monotonic()
            if not self.root.is_dir():
                return
            for task_dir in sorted(self.root.iterdir()):
                if (
                    task_dir.name in self._tasks
                    or not (task_dir / SCORED_DRAW / "public" / "meta.json").exists()
                ):
                    continue
                try:
                    self._tasks[task_dir.name] = load_task(task_dir)
                    self._errors.pop(task_dir.name, None)
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    self._errors[task_dir.name] = str(exc)

    def get(self, name: str) -> TaskData | None:
        task = self._tasks.get(name)
        if task is None and time.monotonic() - self._last_scan > 2.0:
            self.scan()
            task = self._tasks.get(name)
        return task

    def names(self) -> list[str]:
        if time.monotonic() - self._last_scan > 2.0:
            self.scan()
        return sorted(self._tasks)
