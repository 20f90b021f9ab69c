"""The user cache root shared by the library (feature caches) and the control plane."""

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
