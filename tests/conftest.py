"""Shared fixtures: the tiny W2S zoo and tasks, built once per test session into a temporary AAR_CACHE."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Every private part of a task derives from the task secret; tests fix it so builds are reproducible.
os.environ.setdefault("AAR_TASK_SECRET", "aar-test-suite-secret")


@pytest.fixture(scope="session")
def tiny_tasks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Root of the prepared tiny tasks (`<root>/<task>/<draw>/public|private`), weak artifacts included.

    AAR_CACHE points at a session temp dir while the fixture is alive, so `aar.paths.tasks_dir("tiny")`
    and `aar.paths.zoo_dir("tiny")` resolve inside it.
    """
    import torch

    from aar.tasks.prepare import prepare

    torch.set_num_threads(1)
    cache = tmp_path_factory.mktemp("aar_cache")
    old = os.environ.get("AAR_CACHE")
    os.environ["AAR_CACHE"] = str(cache)
    try:
        root = prepare("tiny", quiet=True, jobs=3)
        yield root
    finally:
        if old is None:
            os.environ.pop("AAR_CACHE", None)
        else:
            os.environ["AAR_CACHE"] = old
