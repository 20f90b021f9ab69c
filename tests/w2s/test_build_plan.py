"""The build's plan on an empty cache: what a demo builds, in what order (no model is trained here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aar.tasks.registry import TASKS
from aar.tasks.schedule import Build


def _names(build: Build, task: str) -> list[str]:
    return [s.name for s in build.stages if s.task == task]


def test_demo_plan_builds_one_blank_model_after_what_the_team_needs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AAR_CACHE", str(tmp_path))
    everything = Build("tiny", TASKS, missing_only=True)
    demo = Build("tiny", TASKS, missing_only=True, blank_tasks=("math",))
    for t in TASKS:
        names = _names(everything, t)
        assert names[-1] == "blank model"  # after the task's files, weak labels and ceilings
        assert names.index("strong model") < names.index("probe ceiling") < names.index("blank model")
    assert _names(demo, "math") == _names(everything, "math")
    for t in ("code", "world"):
        assert "blank model" not in _names(demo, t)
        assert _names(demo, t) == _names(everything, t)[:-1]
