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


VIEW_CACHE = Path("/aar/cache/features")  # the research view's read-only feature cache (aar.sandbox.layout)


def feature_cache_dirs() -> list[Path]:
    """Read-only feature caches looked up before computing: `AAR_FEATURE_CACHE` (os.pathsep-separated),
    else the research view's /aar/cache/features when a sandbox mounts one."""
    env = os.environ.get("AAR_FEATURE_CACHE")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [VIEW_CACHE] if VIEW_CACHE.is_dir() else []
