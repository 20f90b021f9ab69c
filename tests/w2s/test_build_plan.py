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


def test_a_ready_task_without_its_held_out_predictions_gets_them(
        tiny_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every baseline written but the held-out draw's ceiling predictions missing (a prepare cut short
    between the two): the build plans and computes them, and nothing else."""
    import json
    import shutil

    from aar.paths import tasks_dir

    cache = tmp_path / "cache"
    skip = shutil.ignore_patterns(".building", "locks", "logs")
    shutil.copytree(tiny_tasks.parent.parent, cache, ignore=skip)
    monkeypatch.setenv("AAR_CACHE", str(cache))
    preds = tasks_dir("tiny") / "math" / "heldout" / "private" / "ceiling_predictions.json"
    want = json.loads(preds.read_text())
    assert set(want) == {"probe", "finetune"}
    preds.write_text(json.dumps({"probe": want["probe"]}))  # the finetune ones lost

    build = Build("tiny", ("math",), missing_only=True, blank_tasks=())
    assert _names(build, "math") == ["held-out finetune ceiling"]
    build.run(quiet=True)
    assert json.loads(preds.read_text()) == want  # the same predictions again
    preds.unlink()
    assert _names(Build("tiny", ("math",), missing_only=True, blank_tasks=()), "math") == [
        "held-out probe ceiling", "held-out finetune ceiling"]
