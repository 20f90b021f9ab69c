"""LLM agents' experiment commands under the Ray executor: a real two-node Ray cluster (2 CPUs each), a
QueuedSandbox over a real bubblewrap sandbox on "n2" reserving CPUs from Ray on that node. While an
experiment runs Ray's free CPUs drop by its threads; a second slot on the full node waits although the
other node is idle; a cancelled wait, an error and a cancelled run each give everything back; the
experiment's record names its node and carries the CPU-seconds the sandbox measured."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aar.sandbox import Limits, SandboxSpec, make_sandbox

LIMITS = Limits(cpu_seconds=30, memory_mb=256, max_procs=32, wall_seconds=60, disk_mb=8, tmp_mb=8)
# experiment-shaped (QUEUE=1 marks it one): prints its thread env, burns some CPU, waits to be let go
BUSY = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"
WAIT_GO = "while [ ! -e go ]; do sleep 0.05; done"
EXPERIMENT = f"QUEUE=1 sh -c 'echo $OMP_NUM_THREADS $AAR_THREADS; {BUSY}; {WAIT_GO}'"


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    t0 = time.time()
    while not pred():
        assert time.time() - t0 < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)


def _free_cpus() -> float:
    import ray

    return ray.available_resources().get("CPU", 0.0)


def _steady(value: float, seconds: float = 1.5) -> bool:
    """Ray's free CPUs reach `value` and stay there (a leftover holder would take one back)."""
    _wait(lambda: _free_cpus() == value, 30, f"{value:g} free CPUs")
    t_end = time.time() + seconds
    while time.time() < t_end:
        if _free_cpus() != value:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[str]:
    import ray
    from ray.cluster_utils import Cluster

    from aar.cluster.store import connect

    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 2, "include_dashboard": False, "env_vars": {"AAR_NODE": "n1"}},
    )
    try:
        n2 = c.add_node(num_cpus=2, env_vars={"AAR_NODE": "n2"})
        c.wait_for_nodes()
        connect(c.address)
        yield n2.node_id
    finally:
        ray.shutdown()
        c.shutdown()


def test_experiments_hold_ray_cpus_on_the_agents_node(two_nodes: str, tmp_path: Path) -> None:
    from aar.agents.llm.queued_sandbox import QueuedSandbox
    from aar.cluster.slots import RaySlots
    from aar.compute import SlotCancelled

    with pytest.raises(ValueError, match="has 2 CPUs"):
        RaySlots(None, threads=3, node_id=two_nodes)  # more than the node has: one line, not a hang
    slots = RaySlots(None, threads=2, node_id=two_nodes)
    agent_dir = tmp_path / "agents" / "alice"
    ws = agent_dir / "workspace"
    inner = make_sandbox("bwrap", SandboxSpec(ws, [], None, LIMITS))
    box = QueuedSandbox(inner, slots, "alice", log=agent_dir / "experiments.jsonl")
    running = agent_dir / "running.json"
    assert _steady(4.0)
    assert box.run("echo ${AAR_THREADS:-none}").stdout.strip() == "none"  # not an experiment: no slot
    assert _free_cpus() == 4.0

    out: dict = {}
    first = threading.Thread(target=lambda: out.setdefault("res", box.run(EXPERIMENT)), daemon=True)
    first.start()
    _wait(lambda: running.exists() and '"running"' in running.read_text(), 60, "the experiment to start")
    (entry,) = json.loads(running.read_text())
    assert entry["node"] == "n2" and entry["label"].startswith("QUEUE=1")
    _wait(lambda: _free_cpus() == 2.0, 30, "Ray to count the held CPUs")  # n2's two, n1's still free

    # a second slot on n2 waits although n1 is idle; cancelled while waiting it leaves nothing behind
    cancel, granted = threading.Event(), threading.Event()

    def second() -> None:
        try:
            with slots.slot("bob", "second", cancel=cancel):
                granted.set()
        except SlotCancelled:
            out["cancelled"] = True

    t2 = threading.Thread(target=second, daemon=True)
    t2.start()
    assert not granted.wait(2.0) and _free_cpus() == 2.0
    cancel.set()
    t2.join(30)
    assert out.get("cancelled") and not granted.is_set()

    # another waiter is served once the first experiment ends
    got: dict = {}

    def third() -> None:
        with slots.slot("bob", "third") as s:
            got.update(t=time.time(), node=s.node, env=s.env)

    t3 = threading.Thread(target=third, daemon=True)
    t3.start()
    assert not got and t3.is_alive()
    (ws / "go").write_text("")
    first.join(60)
    t_first_done = time.time()
    t3.join(60)
    assert got["node"] == "n2" and got["env"]["OMP_NUM_THREADS"] == "2"
    assert got["t"] >= t_first_done - 1.0
    res = out["res"]
    assert res.ok and res.stdout.split() == ["2", "2"], (res.stdout, res.stderr)
    assert res.node == "n2" and res.cpu_seconds and res.cpu_seconds > 0.05
    assert _steady(4.0)  # the cancelled waiter did not take n2's CPUs when they came free
    assert json.loads(running.read_text()) == []

    # the record: where it ran and what it cost, measured by the sandbox
    (rec,) = [json.loads(x) for x in (agent_dir / "experiments.jsonl").read_text().splitlines()]
    assert rec["agent"] == "alice" and rec["node"] == "n2" and rec["threads"] == 2
    assert rec["cpu_seconds"] == res.cpu_seconds and rec["gpu_seconds"] == 0.0 and rec["returncode"] == 0
    assert rec["seconds"] == res.seconds and 0.0 <= rec["waited"] < rec["elapsed"]

    from aar.cluster.costs import by_node

    assert by_node(tmp_path)["nodes"]["n2"]["cpu_seconds"] == res.cpu_seconds

    # an error inside a slot and a run cancelled while it runs both give the CPUs back
    with pytest.raises(RuntimeError), slots.slot("alice", "boom"):
        _wait(lambda: _free_cpus() == 2.0, 30, "the slot to be counted")
        raise RuntimeError("boom")
    assert _steady(4.0)
    (ws / "go").unlink()
    stop = threading.Event()
    t4 = threading.Thread(target=lambda: out.update(res=box.run(EXPERIMENT, cancel=stop)), daemon=True)
    t4.start()
    _wait(lambda: '"running"' in running.read_text(), 60, "the second experiment to start")
    _wait(lambda: _free_cpus() == 2.0, 30, "Ray to count the held CPUs")
    stop.set()
    t4.join(30)
    assert out["res"].killed_reason == "cancelled"
    assert _steady(4.0)


def test_llm_agent_under_the_ray_executor_waits_on_ray(two_nodes: str, tmp_path: Path) -> None:
    """The LLM agent's launcher picks its slot provider from the env its host actor gives it."""
    import ray

    from aar.agents.llm.launch import slot_provider
    from aar.cluster.slots import RaySlots
    from aar.compute import ComputeQueue

    address = ray.get_runtime_context().gcs_address
    env = {"AAR_EXECUTOR": "ray", "AAR_RAY_ADDRESS": address, "AAR_RAY_NODE_ID": two_nodes,
           "OMP_NUM_THREADS": "2", "AAR_COMPUTE_ROOT": str(tmp_path / "queue"), "AAR_COMPUTE_SLOTS": "1"}
    slots = slot_provider(tmp_path, env)
    assert isinstance(slots, RaySlots) and slots.node_id == two_nodes and slots.threads == 2
    with slots.slot("alice", "x") as s:
        assert s.node == "n2" and s.env["AAR_THREADS"] == "2"
    local = slot_provider(tmp_path, {k: v for k, v in env.items() if k != "AAR_EXECUTOR"})
    assert isinstance(local, ComputeQueue) and local.threads == 2
    assert slot_provider(tmp_path, {}) is None
