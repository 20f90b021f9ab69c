"""The W2S tasks: generation (`build_tasks`), names, and the public data-dir layout.

Labels of `train_unlabel`/`test` live only in `private/`, read only by `aar.tasks.private`.
"""

from aar.tasks.build import build_tasks, corpus
from aar.tasks.registry import DRAWS, SPLITS, TASKS

__all__ = ["DRAWS", "SPLITS", "TASKS", "build_tasks", "corpus"]
