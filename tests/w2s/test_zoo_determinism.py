"""The zoo is the same on every machine: its weights do not depend on how the build is laid out in
processes, every model is trained with the fixed numerics of `aar.tasks.numerics`, and on x86-64 the
tiny zoo's weights equal the hashes recorded here for the machine's CPU vendor: x86-64 machines with AVX2
and the locked set (requirements/lock.txt: torch, transformers) of one vendor build these bytes.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from pathlib import Path

import pytest

from aar.paths import tasks_dir
from aar.tasks.numerics import PINNED_KERNELS_X86, ZOO_THREADS, pinned_env
from aar.tasks.readiness import pending_tasks, task_ready
from aar.tasks.registry import TASKS
from aar.tasks.schedule import Build
from aar.tasks.zoo.build import model_dir

# sha256 of model.safetensors of the tiny zoo (math and code: their corpora are public, unlike world's), per
# CPU vendor: with the same pinned AVX2 kernels, Intel and AMD processors still round differently (measured
# on a Xeon and on an EPYC, 2026-12-02), so the bytes are the same across machines of one vendor only
TINY_X86 = {
    "GenuineIntel": {
        ("math", "weak"): "4883c105a4ea37ad8c4d7a84a7fe525a8e0fde61eeda3c061fea4b9ea1e56675",
        ("math", "strong"): "9e3449004371056e6e2e7a243568afef3bb944c3693ede2d3edb449f4baeda3b",
        ("code", "weak"): "191131d5b4e3b2a247d4f8335c3efc398af56b1f7cbabee346419ac88e14c5d6",
        ("code", "strong"): "a48b5fdbc11680b69d1a4aea5807cd428510e50a4d8d68201e77d69873bc3f16",
    },
    "AuthenticAMD": {
        ("math", "weak"): "6cf43e6c8cc0ec4bdb61cb44e5b8fa5c629689603337b62c695c81bdb0f0fe09",
        ("math", "strong"): "018ebec010216f1617a63b0c1f379b4bbfa0a811ef1a823f24bbe49926b2e112",
        ("code", "weak"): "0828d89a9d79dcc2a3baef321c3fa434940b958a45d6ad4f80c9c6964259a811",
        ("code", "strong"): "326c3d11e4767b172816be8b1c7eb8b63252c7a674f70dd215c1962f9cb3d462",
    },
}


def _cpu_vendor() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("vendor_id"):
            return line.split(":", 1)[1].strip()
    return "?"


def _hashes(tasks: tuple[str, ...]) -> dict[tuple[str, str], str]:
    return {(t, r): hashlib.sha256((model_dir(t, r, "tiny") / "model.safetensors").read_bytes()).hexdigest()
            for t in tasks for r in ("weak", "strong")}


def test_same_weights_one_task_at_a_time_and_main_task_ready_first(
        tiny_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's tiny zoo was built 3 tasks at once; here one at a time in a fresh cache, as a demo
    does: math is ready to score while code and world are still pending, then all end up the same."""
    parallel = _hashes(("math", "code", "world"))
    monkeypatch.setenv("AAR_CACHE", str(tmp_path))
    root = tasks_dir("tiny")
    build = Build("tiny", ("math", "code", "world"), missing_only=True, jobs=1).start()
    try:
        build.wait_ready("math", display=False)
        assert task_ready(root, "math") and not task_ready(root, "code") and not build.checks_ready()
        # the main task is scorable with its held-out draw's ceiling predictions (the server reads them once)
        assert (root / "math" / "heldout" / "private" / "ceiling_predictions.json").is_file()
        assert {"code", "world"} <= set(pending_tasks(root))  # (math too, until its blank model is built)
        build.background(1)  # what a demo does (with 10) once its team starts: the rest of the build yields
        seen: list[int] = []
        while not build.done():
            seen += build.worker_niceness()
            time.sleep(0.05)
        build.wait()
        assert seen and min(seen) >= 1
    finally:
        build.stop()
    # in phases, one task at a time: every task scorable (probe), then the blank models (only the
    # overseer's ablation needs them), then the finetune ceilings no probe run or check waits for
    stages = {(s["task"], s["name"]): s for s in build.status()["stages"]}
    last_probe = max(stages[t, "probe ceiling"]["finished"] for t in TASKS)
    first_blank = min(stages[t, "blank model"]["started"] for t in TASKS)
    last_blank = max(stages[t, "blank model"]["finished"] for t in TASKS)
    assert all(stages[t, "blank model"]["state"] == "done" for t in TASKS)
    assert first_blank >= last_probe
    assert min(stages[t, "finetune ceiling"]["started"] for t in TASKS) >= last_blank
    assert pending_tasks(root) == [] and all(task_ready(root, t, ("probe", "finetune")) for t in TASKS)
    assert _hashes(("math", "code", "world")) == parallel
    for t in ("math", "world"):
        numerics = json.loads((model_dir(t, "strong", "tiny") / "aar_zoo.json").read_text())["numerics"]
        assert numerics["threads"] == ZOO_THREADS
        if platform.machine().lower() in ("x86_64", "amd64"):
            assert numerics["kernels"] == PINNED_KERNELS_X86
    assert Build("tiny", TASKS, missing_only=True).stages == []  # nothing left to build


def test_tiny_zoo_weights_are_the_recorded_ones(tiny_tasks: Path) -> None:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        # other architectures train with their own kernels (and their own bytes): nothing is pinned there
        assert not set(PINNED_KERNELS_X86) & set(pinned_env())
        return
    vendor = _cpu_vendor()
    assert vendor in TINY_X86, f"no tiny-zoo hashes recorded for {vendor} processors: record this machine's"
    assert _hashes(("math", "code")) == TINY_X86[vendor]


def test_a_model_restarted_when_the_team_ends_has_the_same_weights(
        tiny_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`foreground` (the team has ended) restarts a model being pretrained with sleeping threads; the
    restarted worker builds the same bytes as the session's zoo."""
    from aar.tasks import schedule

    want = _hashes(("math",))
    monkeypatch.setenv("AAR_CACHE", str(tmp_path))
    monkeypatch.setattr(schedule, "wait_policy", lambda threads=2: "ACTIVE")  # the cores read idle
    build = Build("tiny", ("math",), missing_only=True, jobs=1, blank_tasks=(), zoo_only=True)
    build.background(1)  # as once a team runs: the models' threads sleep
    build.start()
    try:
        # while the weak model trains, the same worker has the strong model still to do: a real restart
        deadline = time.time() + 600
        while not any(s["name"] == "weak model" and s["state"] == "running"
                      for s in build.status()["stages"]):
            assert time.time() < deadline and not build.done()
            time.sleep(0.02)
        assert build.foreground(restart_below=1.0) == ["math"]
        build.wait()
    finally:
        build.stop()
    assert _hashes(("math",)) == want
    log = (tmp_path / "logs" / "build-tiny-math.log").read_text()
    assert log.count("-m aar.tasks.zoo.worker") == 2  # started, stopped, started again
