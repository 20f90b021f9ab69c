"""The W2S tasks: generation (`build_tasks`), names, and the public data-dir layout.

Labels of `train_unlabel`/`test` live only in `private/`, read only by `aar.tasks.private`.
The names below load on first use, so `aar.tasks.cli` (registered in `aar.cli`) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DRAWS", "SPLITS", "TASKS", "build_tasks", "corpus"]


def __getattr__(name: str) -> Any:
    if name in ("build_tasks", "corpus"):
        from aar.tasks import build

        return getattr(build, name)
    if name in ("DRAWS", "SPLITS", "TASKS"):
        from aar.tasks import registry

        return getattr(registry, name)
    raise AttributeError(name)
