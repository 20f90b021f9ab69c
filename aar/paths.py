"""Where aar keeps things that outlive a run: built tasks, the pretrained model zoo, the task secret."""

from __future__ import annotations

from pathlib import Path

from aarlab.paths import cache_dir


def zoo_dir(size: str = "full") -> Path:
    return cache_dir() / "zoo" / size


def tasks_dir(size: str = "full") -> Path:
    return cache_dir() / "tasks" / size


def secret_dir() -> Path:
    """Holds the per-install task secret (mode 0700). No sandbox ever mounts it."""
    return cache_dir() / "secret"
