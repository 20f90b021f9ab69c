"""The compute queue across real processes: slot limit, round-robin fairness, crash release."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from aar.compute import ComputeQueue, default_threads

WORKER = """
import json, os, sys, time
from aar.compute import ComputeQueue
root, slots, owner, label, hold, log = sys.argv[1:7]
q = ComputeQueue(root, int(slots), poll=0.01, reserve=int(os.environ.get("RESERVE", "0")))
go = os.environ.get("GO")
while go and not os.path.exists(go):  # start queueing together
    time.sleep(0.01)
with q.slot(owner, label) as s:
    t0 = time.time()
    print("granted", flush=True)
    if hold.startswith("/"):  # hold until the test creates this file
        while not os.path.exists(hold):
            time.sleep(0.01)
    else:
        time.sleep(float(hold))
    t1 = time.time()
with open(log, "a") as f:
    rec = {"owner": owner, "label": label, "start": t0, "end": t1, "threads": s.threads}
    f.write(json.dumps(rec) + "\\n")
"""


def _spawn(
    root: Path,
    slots: int,
    owner: str,
    label: str,
    hold: float | str,
    log: Path,
    go: Path | None = None,
    reserve: int = 0,
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(root), str(slots), owner, label, str(hold), str(log)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "GO": str(go or ""), "RESERVE": str(reserve)},
    )


def _records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _max_overlap(recs: list[dict]) -> int:
    events = sorted([(r["start"], 1) for r in recs] + [(r["end"], -1) for r in recs])
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def _wait_queued(q: ComputeQueue, n: int, deadline: float = 20.0) -> None:
    t0 = time.time()
    while len(q.status()) < n:
        assert time.time() - t0 < deadline, q.status()
        time.sleep(0.02)


def _next_running(q: ComputeQueue, labels: set[str], deadline: float = 20.0) -> str:
    """The one of `labels` granted first (the others still queued then)."""
    t0 = time.time()
    while True:
        running = {r["label"] for r in q.status() if r["state"] == "running"} & labels
        if running:
            assert len(running) == 1, running
            return running.pop()
        assert time.time() - t0 < deadline, q.status()
        time.sleep(0.01)


def test_never_more_than_slots_holders(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    go = tmp_path / "go"
    procs = [_spawn(tmp_path / "q", 2, f"o{i % 3}", f"j{i}", 0.25, log, go) for i in range(6)]
    time.sleep(0.5)
    go.touch()
    for p in procs:
        assert p.wait(timeout=60) == 0
    recs = _records(log)
    assert len(recs) == 6
    assert _max_overlap(recs) == 2  # full use of both slots, never three
    assert all(r["threads"] == default_threads(2) for r in recs)


def test_round_robin_across_owners(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    root = tmp_path / "q"
    q = ComputeQueue(root, 1)
    release = tmp_path / "release"
    blocker = _spawn(root, 1, "A", "a0", str(release), log)
    assert blocker.stdout is not None and blocker.stdout.readline().strip() == "granted"
    a_jobs = []
    for i in range(1, 5):  # owner A queues four more jobs first...
        a_jobs.append(_spawn(root, 1, "A", f"a{i}", 0.05, log))
        _wait_queued(q, 1 + i)
    b_job = _spawn(root, 1, "B", "b0", 0.05, log)  # ...then B queues one
    _wait_queued(q, 6)
    release.touch()
    for p in [blocker, *a_jobs, b_job]:
        assert p.wait(timeout=60) == 0
    order = [r["label"] for r in sorted(_records(log), key=lambda r: r["start"])]
    assert order[0] == "a0"
    assert order[1] == "b0", order  # B is served next, not after A's whole backlog
    assert order[2:] == ["a1", "a2", "a3", "a4"]  # A's own jobs stay in order


def test_a_reserved_share_goes_first_up_to_its_size(tmp_path: Path) -> None:
    """The overseer's reserve=1 of 2 slots: its job jumps an agent's earlier one while it runs none, and
    queues behind it (round-robin) once it runs one."""
    log, root = tmp_path / "log.jsonl", tmp_path / "q"
    q = ComputeQueue(root, 2)
    rel = {k: tmp_path / f"release-{k}" for k in ("a", "b", "c", "o")}
    procs: list[subprocess.Popen] = []

    def spawn(owner: str, label: str, hold: float | str, reserve: int = 0) -> subprocess.Popen:
        procs.append(_spawn(root, 2, owner, label, hold, log, reserve=reserve))
        return procs[-1]

    try:
        holders = [spawn("A", "a0", str(rel["a"])), spawn("B", "b0", str(rel["b"]))]
        for h in holders:
            assert h.stdout is not None and h.stdout.readline().strip() == "granted"
        c0 = spawn("C", "c0", str(rel["c"]))  # an agent queues first...
        _wait_queued(q, 3)
        o0 = spawn("overseer", "o0", str(rel["o"]), reserve=1)  # ...then the overseer, twice
        _wait_queued(q, 4)
        o1 = spawn("overseer", "o1", 0.05, reserve=1)
        _wait_queued(q, 5)
        rel["a"].touch()
        assert _next_running(q, {"c0", "o0"}) == "o0"  # the overseer's job before C's earlier one
        rel["b"].touch()  # the overseer runs one (its share): C's job is next, not the overseer's second
        assert _next_running(q, {"c0", "o1"}) == "c0"
        rel["c"].touch()
        rel["o"].touch()
        for p in [*holders, c0, o0, o1]:
            assert p.wait(timeout=60) == 0
        order = [r["label"] for r in sorted(_records(log), key=lambda r: r["start"])]
        assert set(order[:2]) == {"a0", "b0"} and order[2:] == ["o0", "c0", "o1"], order
    finally:  # a failed assertion must not leave holders behind (they poll for files of this test)
        for p in procs:
            p.kill()


def test_crashed_holder_releases_slot(tmp_path: Path) -> None:
    root = tmp_path / "q"
    log = tmp_path / "log.jsonl"
    q = ComputeQueue(root, 1)
    holder = _spawn(root, 1, "A", "crash", 120, log)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "granted"
    assert [r["state"] for r in q.status()] == ["running"]
    waiter = _spawn(root, 1, "B", "after", 0.01, log)
    _wait_queued(q, 2)
    time.sleep(0.2)
    assert not log.exists()  # still blocked by the holder
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert waiter.wait(timeout=30) == 0
    assert [r["label"] for r in _records(log)] == ["after"]
    assert q.status() == []


def test_status_and_release_in_process(tmp_path: Path) -> None:
    q = ComputeQueue(tmp_path, 2, threads=3)
    with q.slot("me", "x") as s:
        assert s.env["OMP_NUM_THREADS"] == "3"
        rows = q.status()
        assert [(r["owner"], r["label"], r["state"]) for r in rows] == [("me", "x", "running")]
        assert q.counts() == {"me": {"queued": 0, "running": 1}}
    assert q.status() == []


def test_one_slot_per_device(tmp_path: Path) -> None:
    q = ComputeQueue(tmp_path, 8, devices=["3", "5"])
    assert q.slots == 2
    with q.slot("a", "x") as s1, q.slot("b", "y") as s2:
        assert {s1.env["CUDA_VISIBLE_DEVICES"], s2.env["CUDA_VISIBLE_DEVICES"]} == {"3", "5"}
        assert sorted(r["slot"] for r in q.status()) == [0, 1]
        first = s1.device
    with q.slot("c", "z") as s3:  # the freed device is reused
        assert s3.device in ("3", "5") and s3.index in (0, 1)
    assert first in ("3", "5")
