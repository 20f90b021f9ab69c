"""An agent as a Ray actor: on its node, it unpacks the agent's folder (workspace, audit log, state) sent
by the head, fetches the task's public data into the node's cache, and runs the agent's usual command as
a child process; the head pulls the folder back (`snapshot`) so a restart on any node continues with it.

Paths in the command that name the head's run dir or data dir are written as `{run_dir}` / `{data_dir}`
and filled here with this node's folders."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from aar.cluster.bundles import pack_dir, unpack

# the token travels in the environment; the view is staged on the node; placements are the head's record
NOT_SHIPPED = ("token", "view", "placements.jsonl")


class AgentHost:
    def __init__(self, run_key: str, name: str):
        from aar.cluster.node import node_cache

        self.run_key, self.name = run_key, name
        self.root = node_cache() / "runs" / run_key
        self.agent_dir = self.root / "agents" / name
        self.proc: subprocess.Popen | None = None

    def start(
        self,
        command: list[str],
        env: dict[str, str],
        folder: bytes | None,
        files: dict[str, bytes],
        bundle: dict | None,
    ) -> dict[str, Any]:
        from aar.cluster.node import node_name
        from aar.cluster.store import node_public

        if self.agent_dir.exists():  # what the head holds is the agent's folder, not a stale copy here
            from aar.sandbox.quota import drop_volumes_under

            drop_volumes_under(self.agent_dir)  # a killed agent's sandbox may have left its workspace mounted
            shutil.rmtree(self.agent_dir)
        self.agent_dir.mkdir(parents=True)
        if folder:
            unpack(folder, self.agent_dir)
        for rel, data in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        data_dir = str(node_public(bundle, self.run_key)) if bundle else ""
        fill = {"{run_dir}": str(self.root), "{data_dir}": data_dir}
        argv = [_fill(a, fill) for a in command]
        import ray

        node, node_id = node_name(), ray.get_runtime_context().get_node_id()
        log = open(self.agent_dir / "agent.log", "ab")  # noqa: SIM115 - the child holds it
        log.write(f"\n--- start {time.strftime('%Y-%m-%dT%H:%M:%S')} on node {node}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env, "AAR_NODE": node, "AAR_RAY_NODE_ID": node_id},  # its experiments' node
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        return {"node": node, "node_id": node_id, "pid": self.proc.pid}

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def reap(self) -> int | None:
        """SIGKILL the agent's process group (nothing may outlive it) and return its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGKILL)
        rc = self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return rc

    def snapshot(self) -> bytes:
        """The agent's folder as a blob (the workspace with its state, the audit and experiment logs)."""
        return pack_dir(self.agent_dir, skip=NOT_SHIPPED)


def _die_with_parent() -> None:
    """In the child: SIGKILL it when the actor's process ends (a killed actor or a lost node must not
    leave its agent running beside the restarted one)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _fill(arg: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        arg = arg.replace(k, v)
    return arg


def restore(folder: Path, blob: bytes) -> None:
    """Head side: replace the agent's folder with the node's copy, keeping what never leaves the head."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".sync")
    if tmp.exists():
        shutil.rmtree(tmp)
    unpack(blob, tmp)
    for keep in NOT_SHIPPED:
        if (folder / keep).exists():
            (folder / keep).rename(tmp / keep)
    old = folder.with_name(folder.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
