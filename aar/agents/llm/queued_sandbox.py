"""A sandbox wrapper that sends the LLM agent's *experiment* commands through the compute queue.

An experiment is a `bash` command that runs an idea (`aarlab.w2s.run_idea`, `run_recipe`) or trains
(`aarlab.w2s` CLI): it waits for a slot (fair across agents) and gets the slot's thread env
(`OMP_NUM_THREADS`, `AAR_THREADS`, ...). Everything else (ls, cat, small scripts) runs at once.
"""

from __future__ import annotations

import re
import threading
from typing import Any

EXPERIMENT = re.compile(r"aarlab\.w2s\.run_idea|run_recipe|\bQUEUE=1\b")


def is_experiment(command: str) -> bool:
    return EXPERIMENT.search(command) is not None


class QueuedSandbox:
    """The interface of `aar.sandbox.Sandbox` (`run`, `spec`, `kind`, `inside`, `host_path`, `read_roots`)."""

    def __init__(self, inner: Any, queue: Any, owner: str) -> None:
        self.inner = inner
        self.queue = queue
        self.owner = owner
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
        with self.queue.slot(self.owner, command.strip().splitlines()[0][:80]) as slot:
            self.experiments += 1  # a call cancelled while it waited is killed as soon as it starts
            return self.inner.run(command, timeout=timeout, env={**(env or {}), **slot.env}, cancel=cancel)
