"""Compute slots reserved from Ray on the caller's own node, for work that must run where it is (an LLM
agent's experiment command runs in the agent's sandbox, over its workspace on its node).

`RaySlots.slot(owner, label)` has the interface of `aar.compute.ComputeQueue.slot`: it starts a holder
actor asking for `num_cpus = threads` (and `num_gpus`) with hard node affinity to this node; Ray's
scheduler grants it when the node has the resources free (requests beyond them wait in Ray's queue, in
the order Ray serves them), and an actor holds what it asked for until it dies. The slot's env is the
compute queue's thread env plus `CUDA_VISIBLE_DEVICES` = the GPUs Ray gave the holder. Leaving the
block (normally, by an exception, or by `cancel` while waiting) kills the holder, which releases the
resources; a holder also dies with the process that made it (Ray's owner fate-sharing), so a killed
agent leaves nothing reserved.

A holder actor rather than a placement group: Ray assigns GPU ids only to tasks and actors, and the
command needs to be told which GPU is its own; running the command itself as a Ray task would move it
out of the agent's sandbox and its cancel and limit handling.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aar.compute import Slot, SlotCancelled, slot_env


class SlotHolder:
    """The actor whose life is the reservation."""

    def granted(self) -> dict[str, Any]:
        import ray

        from aar.cluster.node import node_name

        return {"node": node_name(), "gpu_ids": [str(g) for g in ray.get_gpu_ids()], "t": time.time()}


class RaySlots:
    def __init__(
        self,
        address: str | None,
        *,
        threads: int = 1,
        gpus: float = 0.0,
        node_id: str | None = None,
        poll: float = 0.1,
    ):
        """`node_id`: the Ray node to reserve on ($AAR_RAY_NODE_ID, set by the agent's host actor, else
        the node this process is attached to)."""
        import ray

        from aar.cluster.store import connect

        if threads < 1 or gpus < 0:
            raise ValueError(f"a slot needs threads >= 1 and gpus >= 0, got {threads} and {gpus}")
        connect(address)
        self.threads, self.gpus, self.poll = threads, gpus, poll
        self.node_id = node_id or os.environ.get("AAR_RAY_NODE_ID") or ray.get_runtime_context().get_node_id()
        node = next((n for n in ray.nodes() if n["NodeID"] == self.node_id and n.get("Alive")), None)
        if node is None:
            raise ValueError(f"Ray node {self.node_id[:12]} is not a live node of the cluster")
        cpus, gpus_there = node.get("Resources", {}).get("CPU", 0), node.get("Resources", {}).get("GPU", 0)
        if cpus < threads or gpus_there < gpus:
            raise ValueError(
                f"Ray node {self.node_id[:12]} has {cpus:g} CPUs and {gpus_there:g} GPUs; "
                f"an experiment asks for {threads} and {gpus:g}"
            )

    @contextmanager
    def slot(
        self, owner: str, label: str = "", timeout: float | None = None, cancel: threading.Event | None = None
    ) -> Iterator[Slot]:
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        holder = ray.remote(SlotHolder).options(
            num_cpus=self.threads,
            num_gpus=self.gpus,
            max_restarts=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(self.node_id, soft=False),
        )
        t0 = time.time()
        actor = holder.remote()
        try:
            ref = actor.granted.remote()
            while not ray.wait([ref], timeout=self.poll)[0]:
                if cancel is not None and cancel.is_set():
                    raise SlotCancelled(f"{owner}/{label} cancelled while waiting for Ray resources")
                if timeout is not None and time.time() - t0 > timeout:
                    raise TimeoutError(f"no Ray resources for {owner}/{label} within {timeout:.0f}s")
            info = ray.get(ref)
            env = slot_env(self.threads)
            device = ",".join(info["gpu_ids"]) or None
            if device is not None:
                env["CUDA_VISIBLE_DEVICES"] = device
            waited = time.time() - t0
            yield Slot(0, owner, label, self.threads, waited, 0, device, env, info["node"], self.gpus)
        finally:
            ray.kill(actor, no_restart=True)
