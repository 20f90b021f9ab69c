"""How a build's OpenMP threads wait: spinning on idle cores with no team running, else sleeping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aar.tasks import numerics, schedule
from aar.tasks.schedule import Build


def test_busy_cores_are_not_counted_idle() -> None:
    n = os.cpu_count() or 1
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        assert numerics.idle_cores(interval=1.0) < 1.0
        assert numerics.wait_policy(threads=2) == "PASSIVE"
    finally:
        for b in burners:
            b.kill()
            b.wait()


def _policies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, idle: float, nice: int,
              roles: list[str]) -> str:
    monkeypatch.setenv("AAR_CACHE", str(tmp_path))
    monkeypatch.setattr(numerics, "idle_cores", lambda interval=0.5: idle)
    seen: list[dict[str, str]] = []
    build = Build("tiny", ("math",), missing_only=True)
    monkeypatch.setattr(build, "_worker", lambda task, worker, cmd, env, **kw: seen.append(env))
    build._nice = nice
    build._zoo_worker("math", roles)
    (env,) = seen
    assert env["OMP_NUM_THREADS"] == str(numerics.ZOO_THREADS)  # the numerics never change with it
    return env["OMP_WAIT_POLICY"]


def test_scheduler_spins_only_with_the_cores_free_and_no_team(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the scheduler imported wait_policy by name: route it to the module, whose idle_cores is patched
    monkeypatch.setattr(schedule, "wait_policy", lambda threads=2: numerics.wait_policy(threads))
    free = float(numerics.ZOO_THREADS)
    assert _policies(monkeypatch, tmp_path, free, 0, ["weak", "strong"]) == "ACTIVE"
    assert _policies(monkeypatch, tmp_path, 0.5, 0, ["weak", "strong"]) == "PASSIVE"  # others use the cores
    assert _policies(monkeypatch, tmp_path, free, 10, ["strong"]) == "PASSIVE"  # the team is running
    assert _policies(monkeypatch, tmp_path, free, 10, ["blank"]) == "PASSIVE"
    assert _policies(monkeypatch, tmp_path, free, 0, ["blank"]) == "ACTIVE"  # e.g. after the team


def test_zoo_worker_does_not_restart_for_the_wait_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker re-executes itself to fix the numerics; the wait policy is not part of them."""
    from aar.tasks.zoo import worker

    env = {**os.environ, **numerics.pinned_env("ACTIVE")}
    monkeypatch.setattr(os, "environ", env)
    calls: list[object] = []
    monkeypatch.setattr(os, "execve", lambda *a: calls.append(a))
    with pytest.raises(SystemExit):  # argparse: no --size; it got past the re-exec check
        worker.main([])
    assert calls == []
    env["OMP_NUM_THREADS"] = "7"
    with pytest.raises(SystemExit):
        worker.main([])
    assert len(calls) == 1


def test_a_container_limit_caps_the_idle_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a container the CPU counters are the host's: a cgroup allowed half a core, or one using all
    it may, has no idle cores to spin on however idle the host is."""
    monkeypatch.setattr(numerics, "CGROUP", tmp_path)
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    (tmp_path / "cpu.stat").write_text("usage_usec 1000\n")
    assert numerics.idle_cores(interval=0.2) <= 0.5
    assert numerics.wait_policy(threads=2) == "PASSIVE"
    (tmp_path / "cpu.max").write_text("max 100000\n")  # no limit: the host's idle CPUs count
    assert numerics._cgroup_quota() is None
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()  # cgroup v1
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("150000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert numerics._cgroup_quota() == 1.5


def test_only_the_cpus_it_may_run_on_count() -> None:
    """A process held to one CPU (taskset, a batch scheduler) never sees two idle cores."""
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from aar.tasks import numerics; i = numerics.idle_cores(0.3); assert i <= 1.0, i; "
            "print(numerics.wait_policy(threads=2))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
