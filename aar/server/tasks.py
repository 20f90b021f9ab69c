"""Task registry: public metadata for everyone, private labels of every draw kept in server memory only.

Reads the `<task>/<draw>/{public,private}` layout of docs/contracts.md through `aar.tasks.private` (the
only reader of `private/`). The `main` draw scores agents (public/private halves of `test`); the
`heldout` draw scores the overseer's re-check runs only. Labels never leave this module except as
aggregate scores (see `scoring.py`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aar.tasks.grade import Baselines, baselines_of
from aar.tasks.private import ceiling_predictions_for, labels_for, public_mask_for

MAIN, HELDOUT = "main", "heldout"
DRAWS = (MAIN, HELDOUT)


@dataclass(frozen=True)
class TaskDraw:
    task: str
    draw: str
    meta: dict
    base: Baselines  # the fixed baselines in the task's reference_mode
    labels: dict[str, np.ndarray]  # split -> uint8 labels
    public_idx: np.ndarray  # indices of the public half of test
    private_idx: np.ndarray
    ceiling: dict[str, np.ndarray] | None = None  # mode -> (seeds, n_test) strong-ceiling test predictions

    @property
    def n_test(self) -> int:
        return int(self.labels["test"].size)


@dataclass(frozen=True)
class TaskData:
    name: str
    main: TaskDraw
    heldout: TaskDraw | None  # imported tasks may have none: they serve agents, not re-checks

    @property
    def meta(self) -> dict:
        return self.main.meta

    @property
    def labels(self) -> dict[str, np.ndarray]:
        return self.main.labels

    def draw(self, name: str) -> TaskDraw | None:
        return self.main if name == MAIN else self.heldout if name == HELDOUT else None


def load_draw(task_dir: Path, draw: str) -> TaskDraw:
    public = task_dir / draw / "public"
    meta = json.loads((public / "meta.json").read_text())
    labels = {split: np.asarray(vals, dtype=np.uint8) for split, vals in labels_for(public).items()}
    mask = np.asarray(public_mask_for(public), dtype=bool)
    if "test" not in labels or mask.shape != labels["test"].shape:
        raise ValueError(
            f"{task_dir}/{draw}: test_public_mask length {mask.size} != test labels "
            f"{labels.get('test', np.empty(0)).size}"
        )
    raw = ceiling_predictions_for(public)
    ceiling = None
    if raw:
        ceiling = {m: np.asarray([raw[m][k] for k in sorted(raw[m], key=int)], dtype=np.uint8) for m in raw}
        if any(c.ndim != 2 or c.shape[1] != labels["test"].size for c in ceiling.values()):
            raise ValueError(f"{task_dir}/{draw}: ceiling predictions do not match the test split")
    return TaskDraw(
        task=task_dir.name,
        draw=draw,
        meta=meta,
        base=baselines_of(meta),
        labels=labels,
        public_idx=np.flatnonzero(mask),
        private_idx=np.flatnonzero(~mask),
        ceiling=ceiling,
    )


def load_task(task_dir: Path) -> TaskData:
    heldout = task_dir / HELDOUT / "public" / "meta.json"
    return TaskData(
        name=task_dir.name,
        main=load_draw(task_dir, MAIN),
        heldout=load_draw(task_dir, HELDOUT) if heldout.exists() else None,
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
                if task_dir.name in self._tasks or not (task_dir / MAIN / "public" / "meta.json").exists():
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
