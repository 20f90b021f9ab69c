"""The bubblewrap sandbox: new namespaces (no network), read-only system, writable workspace only."""

from __future__ import annotations

import os
import shutil
import threading
import weakref
from pathlib import Path

from aar.sandbox import quota
from aar.sandbox.access import ensure_reachable, ensure_readable
from aar.sandbox.base import RunResult, Sandbox, SandboxSpec, SandboxUnavailable
from aar.sandbox.limits import CommandCgroup, limit_wrapper
from aar.sandbox.mounts import hidden_paths, hidden_stub, python_paths, system_binds
from aar.sandbox.process import execute
from aar.sandbox.users import INSIDE_GID, INSIDE_NAME, INSIDE_UID, settle


class BwrapSandbox(Sandbox):
    """Each `run` is a fresh `bwrap` with all namespaces unshared, all capabilities dropped, nested user
    namespaces disabled, env cleared, as the unprivileged sandbox user (`aar.sandbox.users`: one host uid,
    uid 1000 inside); limits: rlimits (CPU, address space, file size), a per-command cgroup (pids, memory),
    wall clock (kill the group), workspace quota (file-size rlimit = room left, a watcher that kills the
    command when the workspace passes the quota, and a check after), bounded /tmp and /dev/shm.

    The bwrap options, environment included (the agent token), reach bwrap through a memfd (`--args FD`),
    so no secret is in any process's argv (/proc/<pid>/cmdline is world-readable)."""

    kind = "bwrap"

    def __init__(self, spec: SandboxSpec, bwrap: str | None = None, hard_disk_quota: bool = False) -> None:
        super().__init__(spec)
        exe = bwrap or shutil.which("bwrap")
        if exe is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed; apt-get install bubblewrap")
        self.bwrap = exe
        self._unmount: weakref.finalize | None = None
        if hard_disk_quota and quota.mount_volume(spec.workspace, spec.limits.disk_mb):
            # unmounted (files copied back out) by close(), or when the sandbox is collected or the process
            # exits normally; a killed process leaves it mounted, and the next mount_volume reuses it
            self._unmount = weakref.finalize(self, quota.unmount_volume, spec.workspace)
        self.own_workspace()  # after the mount: the volume's root belongs to the sandbox user too
        ensure_reachable(self.sources(), self.user)
        for m in spec.mounts:
            if not m.copy:  # a bound model dir: its files may be 0600 (copied mounts are read as root)
                ensure_readable(m.source, self.user)

    def sources(self) -> list[Path]:
        """Every host path bwrap binds (it resolves them as the sandbox user)."""
        s = self.spec
        out = [src for src, _ in system_binds()[1]]
        out += [*python_paths(), *s.ro_binds, *(m.source for m in s.mounts if not m.copy), s.workspace]
        if s.socket_path is not None:
            out.append(s.socket_path)
        if s.hf_cache is not None and s.hf_cache.source is not None:
            out.append(s.hf_cache.source)
        if s.gpu is not None:
            out += [src for src, _ in s.gpu.nodes(list(s.gpu.devices))] + s.gpu.library_dirs()
        return out

    def close(self) -> None:
        if self._unmount is not None:
            self._unmount()
            self._unmount = None

    def base_env(self, env: dict[str, str] | None) -> dict[str, str]:
        out = {"USER": INSIDE_NAME, "LOGNAME": INSIDE_NAME}
        if self.spec.hf_cache is not None:
            out.update(self.spec.hf_cache.env())
        out.update(super().base_env(env))
        gpu = self.spec.gpu
        if gpu is not None:  # host GPU ids of the slot -> the GPUs as the command sees them
            out.update(gpu.env(gpu.select(out.get("CUDA_VISIBLE_DEVICES"))))
        return out

    def options(self, env: dict[str, str], host_env: dict[str, str] | None = None,
                fds: list[int] | None = None) -> list[str]:
        """Every bwrap option (mounts, environment) for one command; `host_env` is the command's env before
        `base_env` rewrote it (its CUDA_VISIBLE_DEVICES names the host GPUs to bind). The files of copied
        mounts are opened here and their fds appended to `fds` (the caller passes and closes them)."""
        s = self.spec
        fds = [] if fds is None else fds
        args = [
            "--unshare-all",
            "--unshare-user",
            "--uid",
            str(INSIDE_UID),
            "--gid",
            str(INSIDE_GID),
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
        mounts += [(m.source, m.target, "copy" if m.copy else "--ro-bind") for m in s.mounts]
        mounts.append((s.workspace, s.workspace_inside, "--bind"))
        if s.socket_path is not None and s.socket_inside is not None:
            # read-only: connect() works, chmod/unlink/rename of the socket fail (EROFS)
            mounts.append((s.socket_path, s.socket_inside, "--ro-bind"))
        gpu_nodes: list[tuple[Path, Path]] = []
        if s.gpu is not None:
            gpu_nodes = s.gpu.nodes(s.gpu.select((host_env or {}).get("CUDA_VISIBLE_DEVICES")))
            if gpu_nodes:
                mounts += [(d, d, "--ro-bind-try") for d in s.gpu.library_dirs()]
                mounts += [(Path(p), Path(p), "--ro-bind-try") for p in s.gpu.sys_paths]
        if s.hf_cache is not None and s.hf_cache.source is not None:
            mounts.append((s.hf_cache.source, s.hf_cache.target, "--ro-bind"))
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(s.limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
        args += ["--perms", "1777", "--size", str(s.limits.shm_mb * 1024 * 1024), "--tmpfs", "/dev/shm"]
        for src, dst in gpu_nodes:
            args += ["--dev-bind", str(src), str(dst)]
        # parents before children, so a read-only bind inside the workspace stays read-only (and vice versa)
        copied: list[Path] = []
        for src, dst, flag in sorted(mounts, key=lambda m: len(m[1].parts)):
            if flag == "copy":
                args += _copy_options(src, dst, fds)
                copied.append(dst)
            else:
                args += [flag, str(src), str(dst)]
        for dst in copied:
            args += ["--remount-ro", str(dst)]
        if s.hf_cache is not None and s.hf_cache.source is None:  # the same path, empty, on every host
            args += ["--tmpfs", str(s.hf_cache.target), "--remount-ro", str(s.hf_cache.target)]
        for hidden in hidden_paths():  # an installed `aar` (control plane, task code) next to `aarlab`
            args += ["--ro-bind", str(hidden_stub()), str(hidden)]
        # /proc read-only (no writable /proc/sys or /proc/sysrq-trigger); /dev read-only: nothing is
        # written there except through its bounded /dev/shm
        args += ["--remount-ro", "/proc", "--remount-ro", "/dev", "--remount-ro", "/"]
        args += ["--chdir", str(s.workspace_inside)]
        for k, v in env.items():
            args += ["--setenv", k, v]
        return args

    def command_line(self, command: str, env: dict[str, str] | None = None) -> tuple[list[str], list[int]]:
        """(argv, fds): bwrap reads its options, NUL-separated, from a memfd (`--args FD`, the first of
        `fds`; the others are files of copied mounts). The caller passes the fds to the child and closes
        them after (`close_fds`)."""
        fds: list[int] = []
        try:
            options = self.options(self.base_env(env), env, fds)
            fd = os.memfd_create("aar-bwrap-args", os.MFD_CLOEXEC)
            fds.insert(0, fd)
            os.write(fd, b"".join(a.encode() + b"\0" for a in options))
            os.lseek(fd, 0, os.SEEK_SET)
        except BaseException:
            close_fds(fds)
            raise
        return [self.bwrap, "--args", str(fd), "/bin/bash", "-c", command], fds

    def run(
        self,
        command: str,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        lim, ws, user = self.spec.limits, self.spec.workspace, self.user
        quota_bytes = lim.disk_mb * 1024 * 1024
        room = max(quota_bytes - settle(ws, user), 0)  # also hands host-written files to the sandbox user
        wall = min(timeout, lim.wall_seconds) if timeout is not None else lim.wall_seconds
        cg = CommandCgroup(lim)
        profile = self.spec.gpu
        gpu = profile is not None and bool(profile.select((env or {}).get("CUDA_VISIBLE_DEVICES")))
        wrapper = limit_wrapper(lim, room, cg.procs_files(), nproc=not cg.limits_procs, user=user,
                                address_space=not gpu or not cg.limits_memory)
        argv, fds = self.command_line(command, env)
        try:
            res = execute(
                wrapper + argv,
                env={"PATH": "/usr/bin:/bin"},
                wall=wall,
                preexec=None,
                output_chars=lim.output_chars,
                workspace=ws,
                disk_quota=quota_bytes,
                on_kill=cg.kill_all,
                cancel=cancel,
                pass_fds=tuple(fds),
                final_usage=lambda w: settle(w, user),  # every process is dead: strip setuid bits
            )
            measured = cg.cpu_seconds()  # the processes bwrap reaps in its namespace are not our children
            if measured is not None:
                res.cpu_seconds = measured
            if res.killed_reason is None and cg.oom_killed():
                res.killed_reason = f"memory limit {lim.memory_mb} MB exceeded"
        finally:
            close_fds(fds)
            cg.close()
        return res



def _copy_options(src: Path, dst: Path, fds: list[int]) -> list[str]:
    """A fresh tmpfs at `dst` holding a copy of the files under `src` (read from fds opened here, so the
    sandbox user needs no right on the host folder)."""
    args = ["--perms", "0755", "--tmpfs", str(dst)]
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        rel = Path(dirpath).relative_to(src)
        if rel != Path("."):
            args += ["--perms", "0755", "--dir", str(dst / rel)]
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            fds.append(fd)
            args += ["--perms", "0644", "--file", str(fd), str(dst / rel / name)]
    return args


def close_fds(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
