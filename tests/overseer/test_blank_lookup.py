"""The overseer's knowledge-removed strong model: a zoo task's own strong model has one; an imported task
(HF models) has none, even when it is named like a zoo task, and its verification says the check was
skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from aar.overseer.verify import Plan, VerifyConfig, full_check
from aar.overseer.worker import blank_model_for
from aar.tasks.zoo.blank import blank_dir


def test_only_a_zoo_tasks_own_strong_model_has_a_blank(tiny_tasks: Path, tmp_path: Path) -> None:
    assert blank_model_for(tiny_tasks)("math") == str(blank_dir("math", "tiny"))
    imported = tmp_path / "tasks"
    shutil.copytree(tiny_tasks / "math" / "heldout" / "public", imported / "math" / "heldout" / "public")
    meta_path = imported / "math" / "heldout" / "public" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["models"] = {"weak": "Qwen/Qwen1.5-0.5B-Chat", "strong": "Qwen/Qwen3-4B-Base"}
    meta_path.write_text(json.dumps(meta))
    assert blank_model_for(imported)("math") is None


def test_a_skipped_blank_strong_run_is_noted(tmp_path: Path) -> None:
    class NoRuns:  # a plan with nothing to run: only the counterfactuals' bookkeeping is under test
        def run(self, *a: object, **k: object) -> dict:
            raise AssertionError("no run expected")

    held = tmp_path / "t" / "heldout" / "public"
    held.mkdir(parents=True)
    (held / "meta.json").write_text(json.dumps({"seeds": [0]}))
    plan = Plan(api=None, runner=NoRuns(), subject={"finding_id": 1}, idea=tmp_path, tasks_root=tmp_path,  # type: ignore[arg-type]
                task="t", work=tmp_path / "w")
    full_check(plan, VerifyConfig(ablation=False, generalization=False), [])
    assert plan.note("screened") is not None and plan.note().startswith("blank_strong not run: task 't'")
    assert plan.note("first").startswith("first; blank_strong not run")
