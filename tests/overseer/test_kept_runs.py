"""Baseline re-runs kept across runs: the second run of the same baseline on the same data and models
takes the kept predictions (not run, not timed), and a change to the code, the data or a model runs it
again. Claims' plans have no keeper."""

from __future__ import annotations

import json
from pathlib import Path

from aar.overseer.kept_runs import KeptRuns
from aar.overseer.verify import Plan


class CountingRunner:
    def __init__(self) -> None:
        self.calls = 0

    def run(self, idea, data, seed, work, label, **kw):  # noqa: ANN001, ANN003, ANN201
        self.calls += 1
        return {"test": [self.calls % 2] * 4, "manifest": None, "seconds": 1.5}


class RecordingApi:
    def __init__(self) -> None:
        self.posts: list[dict] = []

    def post_recheck(self, **fields):  # noqa: ANN003, ANN201
        self.posts.append(fields)
        return {"pgr": 0.5}


def _setup(root: Path) -> tuple[Path, Path, Path]:
    strong = root / "zoo" / "strong"
    strong.mkdir(parents=True)
    (strong / "aar_zoo.json").write_text(json.dumps({"final_loss": 1.0, "seconds": 10.0}))
    public = root / "tasks" / "math" / "heldout" / "public"
    public.mkdir(parents=True)
    (public / "meta.json").write_text(json.dumps({"models": {"strong": str(strong)}}))
    (public / "test.jsonl").write_text('{"id": 0}\n')
    idea = root / "idea"
    idea.mkdir()
    (idea / "run.py").write_text("print('baseline')\n")
    return strong, public, idea


def _plan(root: Path, idea: Path, runner: CountingRunner, api: RecordingApi, kept: KeptRuns | None) -> Plan:
    return Plan(api, runner, {"baseline": "b", "task": "math"}, idea, root / "tasks", "math", root / "work",
                kept=kept)  # type: ignore[arg-type]


def test_a_baseline_run_is_kept_and_reused_until_something_changes(tmp_path: Path) -> None:
    strong, public, idea = _setup(tmp_path)
    kept = KeptRuns(tmp_path / "kept")
    runner, api = CountingRunner(), RecordingApi()

    first = _plan(tmp_path, idea, runner, api, kept)
    first.record("heldout", "math", "heldout", 0, "heldout-s0")
    assert runner.calls == 1 and api.posts[-1]["seconds"] == 1.5 and first.note() is None

    again = _plan(tmp_path, idea, runner, api, kept)  # a later run: same code, data, models
    again.record("heldout", "math", "heldout", 0, "heldout-s0")
    assert runner.calls == 1
    assert api.posts[-1]["predictions"] == api.posts[0]["predictions"] and api.posts[-1]["seconds"] is None
    assert "1 run(s) reused" in (again.note() or "")
    # the build adds a ceiling's figures to meta.json (a demo does so while its team runs): no run reads
    # them, so the kept run still stands
    meta = json.loads((public / "meta.json").read_text())
    (public / "meta.json").write_text(json.dumps({**meta, "baselines": {"finetune": {"strong_acc": 0.9}}}))
    _plan(tmp_path, idea, runner, api, kept).record("heldout", "math", "heldout", 0, "heldout-s0")
    assert runner.calls == 1

    for change in (
        lambda: (idea / "run.py").write_text("print('other code')\n"),
        lambda: (public / "test.jsonl").write_text('{"id": 1}\n'),
        lambda: (strong / "aar_zoo.json").write_text(json.dumps({"final_loss": 0.9, "seconds": 11.0})),
    ):
        change()
        before = runner.calls
        _plan(tmp_path, idea, runner, api, kept).record("heldout", "math", "heldout", 0, "heldout-s0")
        assert runner.calls == before + 1, change

    # another label (another seed or counterfactual) is its own run; without a keeper nothing is kept
    _plan(tmp_path, idea, runner, api, kept).record("heldout", "math", "heldout", 1, "heldout-s1")
    assert runner.calls == 5
    _plan(tmp_path, idea, runner, api, None).record("heldout", "math", "heldout", 1, "heldout-s1")
    assert runner.calls == 6
    assert oct((tmp_path / "kept").stat().st_mode & 0o777) == "0o700"

    # the same label at another seed is another run; runs on permuted weak labels are never kept
    _plan(tmp_path, idea, runner, api, kept).record("blank_strong", "math", "heldout", 0, "blank-strong")
    _plan(tmp_path, idea, runner, api, kept).record("blank_strong", "math", "heldout", 1, "blank-strong")
    assert runner.calls == 8
    for _ in range(2):
        _plan(tmp_path, idea, runner, api, kept).record(
            "shuffled_weak", "math", "heldout", 0, "shuffled-weak", weak={0: [0.5] * 4}
        )
    assert runner.calls == 10


class FailingOnceRunner(CountingRunner):
    """Fails its first run after 2.5 s (a timeout on a loaded machine, say), then runs."""

    def run(self, idea, data, seed, work, label, **kw):  # noqa: ANN001, ANN003, ANN201
        from aar.overseer.rerun import RerunError

        self.calls += 1
        if self.calls == 1:
            raise RerunError(f"{label}: exit 1 (timed out)", seconds=2.5)
        return {"test": [1] * 4, "manifest": None, "seconds": 1.5}


def test_a_failed_run_posts_its_time_and_is_neither_kept_nor_inherited(tmp_path: Path) -> None:
    strong, public, idea = _setup(tmp_path)
    kept = KeptRuns(tmp_path / "kept")
    runner, api = FailingOnceRunner(), RecordingApi()

    first = _plan(tmp_path, idea, runner, api, kept)
    first.record("heldout", "math", "heldout", 0, "heldout-s0")
    assert api.posts[-1]["error"].endswith("(timed out)") and api.posts[-1]["seconds"] == 2.5

    # a later run of the same baseline runs it again rather than taking the kept failure
    _plan(tmp_path, idea, runner, api, kept).record("heldout", "math", "heldout", 0, "heldout-s0")
    assert runner.calls == 2 and api.posts[-1]["predictions"] == [1] * 4

    # another finding citing a copy of a snapshot (shared runs) tries the failed run again too
    runner, api = FailingOnceRunner(), RecordingApi()
    one = _plan(tmp_path, idea, runner, api, None)
    one.record("reproduce", "math", "main", 0, "reproduce")
    copy = _plan(tmp_path, idea, runner, api, None)
    copy.shared.update(one.shared)
    copy.record("reproduce", "math", "main", 0, "reproduce")
    assert runner.calls == 2 and "error" in api.posts[0] and api.posts[1]["predictions"] == [1] * 4
