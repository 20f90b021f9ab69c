"""The bubblewrap sandbox: new namespaces (no network), read-only system, writable workspace only."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from aar.sandbox import quota
from aar.sandbox.base import RunResult, Sandbox, SandboxSpec, SandboxUnavailable
from aar.sandbox.limits import CommandCgroup, disk_usage, limit_wrapper
from aar.sandbox.mounts import hidden_paths, python_paths, system_binds
from aar.sandbox.process import execute


class BwrapSandbox(Sandbox):
    """Each `run` is a fresh `bwrap` with all namespaces unshared, all capabilities dropped, nested user
    namespaces disabled, env cleared; limits: rlimits (CPU, address space, file size), a per-command
    cgroup (pids, memory), wall clock (kill the group), workspace quota (file-size rlimit = room left, a
    watcher that kills the command when the workspace passes the quota, and a check after)."""

    kind = "bwrap"

    def __init__(self, spec: SandboxSpec, bwrap: str | None = None, hard_disk_quota: bool = False) -> None:
        super().__init__(spec)
        exe = bwrap or shutil.which("bwrap")
        if exe is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed; apt-get install bubblewrap")
        self.bwrap = exe
        self._mounted = False
        if hard_disk_quota:
            self._mounted = quota.mount_volume(spec.workspace, spec.limits.disk_mb)

    def close(self) -> None:
        if self._mounted:
            quota.unmount_volume(self.spec.workspace)
            self._mounted = False

    def argv(self, command: str, env: dict[str, str]) -> list[str]:
        s = self.spec
        args = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--cap-drop",
            "ALL",
            "--die-with-parent",
            "--clearenv",
            "--hostname",
            "aar-sandbox",
        ]
        links, binds = system_binds()
        for target, path in links:
            args += ["--symlink", target, path]
        mounts: list[tuple[Path, Path, str]] = [(src, dst, "--ro-bind") for src, dst in binds]
        mounts += [(p, p, "--ro-bind") for p in python_paths() + s.ro_binds]
        mounts += [(m.source, m.target, "--ro-bind") for m in s.mounts]
        mounts.append((s.workspace, s.workspace_inside, "--bind"))
        if s.socket_path is not None and s.socket_inside is not None:
            mounts.append((s.socket_path, s.socket_inside, "--bind"))
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(s.limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
        # parents before children, so a read-only bind inside the workspace stays read-only (and vice versa)
        for src, dst, flag in sorted(mounts, key=lambda m: len(m[1].parts)):
            args += [flag, str(src), str(dst)]
        for hidden in hidden_paths():  # an installed `aar` (control plane, task code) next to `aarlab`
            args += ["--tmpfs", str(hidden), "--remount-ro", str(hidden)]
        # /proc read-only: the sandbox is uid 0 (without capabilities), and writable /proc/sys or
        # /proc/sysrq-trigger would let uid 0 change global kernel settings
        args += ["--remount-ro", "/proc", "--remount-ro", "/", "--chdir", str(s.workspace_inside)]
        for k, v in env.items():
            args += ["--setenv", k, v]
        return args + ["/bin/bash", "-c", command]

    def run(
        self,
        command: str,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        lim = self.spec.limits
        quota = lim.disk_mb * 1024 * 1024
        room = max(quota - disk_usage(self.spec.workspace), 0)
        cg = CommandCgroup(lim)
        wrapper = limit_wrapper(lim, room, cg.procs_files())
        wall = min(timeout, lim.wall_seconds) if timeout is not None else lim.wall_seconds
        try:
            res = execute(
                wrapper + self.argv(command, self.base_env(env)),
                env={"PATH": "/usr/bin:/bin"},
                wall=wall,
                preexec=None,
                output_chars=lim.output_chars,
                workspace=self.spec.workspace,
                disk_quota=quota,
                on_kill=cg.kill_all,
            cancel=cancel,
            )
            measured = cg.cpu_seconds()  # the processes bwrap reaps in its namespace are not our children
            if measured is not None:
                res.cpu_seconds = measured
            if res.killed_reason is None and cg.oom_killed():
                res.killed_reason = f"memory limit {lim.memory_mb} MB exceeded"
        finally:
            cg.close()
        return res
