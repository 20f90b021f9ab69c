"""Where aar keeps things that outlive a run: built tasks and the pretrained model zoo."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Root of aar's user cache (override with AAR_CACHE)."""
    root = os.environ.get("AAR_CACHE")
    if root:
        return Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "aar"


def zoo_dir(size: str = "full") -> Path:
    return cache_dir() / "zoo" / size


def tasks_dir(size: str = "full") -> Path:
    return cache_dir() / "tasks" / size
