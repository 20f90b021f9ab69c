"""The `small` testbed (the smallest size in the W2S regime) for real-run checks, built once per machine.

It lives under $AAR_TEST_CACHE (default ~/.cache/aar-test), keyed by the sources that decide what is
built, with its own random task secret in a 0600 file, exactly as a real install keeps it: unlike the
suite's fixed AAR_TASK_SECRET, no idea can read it from our source.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD_SOURCES = [
    *sorted((REPO / "aar" / "tasks").rglob("*.py")),
    REPO / "aarlab" / "w2s" / "weak.py",
    *sorted((REPO / "aarlab" / "w2s" / "backends").glob("*.py")),
]
SMALL_TASKS = ("math",)


def small_env(cache: Path) -> dict[str, str]:
    """The environment of every process of a small-size run: the install's secret file, not the suite's."""
    env = {k: v for k, v in os.environ.items() if k != "AAR_TASK_SECRET"}
    return {**env, "AAR_CACHE": str(cache), "PYTHONUNBUFFERED": "1"}


def build_small() -> Path:
    h = hashlib.sha256()
    for src in BUILD_SOURCES:
        h.update(src.read_bytes())
    root = Path(os.environ.get("AAR_TEST_CACHE") or Path.home() / ".cache" / "aar-test")
    cache = root / f"small-{h.hexdigest()[:12]}"
    done = cache / "prepared"
    if not done.exists():
        cache.mkdir(parents=True, exist_ok=True)
        code = (
            f"from aar.tasks.prepare import prepare; prepare('small', {SMALL_TASKS!r}, quiet=True)"
        )
        subprocess.run([sys.executable, "-c", code], env=small_env(cache), check=True, timeout=3000)
        done.write_text("ok")
    return cache
