"""A sandbox wrapper that sends the LLM agent's *experiment* commands through a slot provider: the run's
compute queue (`aar.compute.ComputeQueue`, executor `local`) or Ray's scheduler on the agent's own node
(`aar.cluster.slots.RaySlots`, executor `ray`).

An experiment is a `bash` command that runs an idea (`aarlab.w2s.run_idea`, `run_recipe`) or trains
(`aarlab.w2s` CLI): it waits for a slot (fair across agents) and gets the slot's thread env
(`OMP_NUM_THREADS`, `AAR_THREADS`, ...; `CUDA_VISIBLE_DEVICES` where the slot holds GPUs). Everything
else (ls, cat, small scripts) runs at once. With `log`, each experiment that ran is one line of the
agent's experiments.jsonl (label, node, seconds, cpu_seconds measured by the sandbox, gpu_seconds,
waited), like the searcher's idea runs, and what waits or runs now is in its running.json.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

EXPERIMENT = re.compile(r"aarlab\.w2s\.run_idea|run_recipe|\bQUEUE=1\b")


def is_experiment(command: str) -> bool:
    return EXPERIMENT.search(command) is not None


class QueuedSandbox:
    """The interface of `aar.sandbox.Sandbox` (`run`, `spec`, `kind`, `inside`, `host_path`, `read_roots`).
    `queue`: anything with `slot(owner, label, cancel=...)` yielding an `aar.compute.Slot`."""

    def __init__(self, inner: Any, queue: Any, owner: str, log: Path | None = None) -> None:
        from aar.cluster.costs import RunningLog

        self.inner = inner
        self.queue = queue
        self.owner = owner
        self.log = Path(log) if log is not None else None
        self.running = RunningLog(self.log.parent) if self.log is not None else None
        self.spec = inner.spec
        self.kind = getattr(inner, "kind", "sandbox")
        self.experiments = 0
        self.inside, self.host_path, self.read_roots = inner.inside, inner.host_path, inner.read_roots

    def run(
        self,
        command: str,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        if not is_experiment(command):
            return self.inner.run(command, timeout=timeout, env=env, cancel=cancel)
        from aar.cluster.node import node_name
        from aar.compute import SlotCancelled

        label = command.strip().splitlines()[0][:80]
        t0 = time.time()
        key = self.running.start(label, "queued") if self.running else None
        try:
            with self.queue.slot(self.owner, label, cancel=cancel) as slot:
                node = slot.node or node_name()
                if self.running and key is not None:
                    self.running.update(key, "running", node)
                self.experiments += 1
                res = self.inner.run(command, timeout=timeout, env={**(env or {}), **slot.env}, cancel=cancel)
        except SlotCancelled:
            return _cancelled(time.time() - t0)
        finally:
            if self.running and key is not None:
                self.running.done(key)
        res.node, res.waited = node, slot.waited
        self._record(label, res, slot, time.time() - t0)
        return res

    def _record(self, label: str, res: Any, slot: Any, elapsed: float) -> None:
        if self.log is None:
            return
        rec = {
            "t": time.time(),
            "agent": self.owner,
            "label": label,
            "node": res.node,
            "seconds": res.seconds,
            "elapsed": elapsed,
            "cpu_seconds": res.cpu_seconds,
            "gpu_seconds": res.seconds * slot.gpus,
            "waited": slot.waited,
            "threads": slot.threads,
            "returncode": res.returncode,
        }
        with open(self.log, "a") as f:
            f.write(json.dumps(rec) + "\n")


def _cancelled(waited: float) -> Any:
    """What a command cancelled before it started returns: the shape of a cancelled run, nothing run."""
    from aar.sandbox.base import RunResult
    from aar.sandbox.process import CANCELLED

    return RunResult(-9, "", "cancelled while waiting for compute", 0.0, False, CANCELLED, 0.0, waited=waited)
