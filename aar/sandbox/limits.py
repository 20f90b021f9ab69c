"""Enforcement helpers: rlimits set before exec, per-command cgroups (pids, memory), workspace disk usage."""

from __future__ import annotations

import os
import resource
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from aar.sandbox.base import Limits
from aar.sandbox.users import SandboxUser

CGROUP_ROOT = Path("/sys/fs/cgroup")


def rlimit_preexec(limits: Limits, fsize_bytes: int) -> Callable[[], None]:
    """A preexec_fn applying CPU, address-space, file-size and (for non-root) process-count rlimits."""
    mem = limits.memory_mb * 1024 * 1024

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_procs, limits.max_procs))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _own_cgroup(controller: str) -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        if (controller == "" and ctrls == "") or (controller and controller in ctrls.split(",")):
            base = CGROUP_ROOT / controller / path.strip().lstrip("/")
            return base if base.is_dir() else None
    return None


class CommandCgroup:
    """A fresh cgroup (pids + memory; v1 or v2, nested under our own) per command; killed and removed after.

    Root inside a sandbox is exempt from RLIMIT_NPROC, so the pids controller is what stops a fork bomb.
    """

    def __init__(self, limits: Limits) -> None:
        self.dirs: dict[str, Path] = {}
        name = f"aar-sbx-{uuid.uuid4().hex[:12]}"
        mem = str(limits.memory_mb * 1024 * 1024)
        if (CGROUP_ROOT / "cgroup.controllers").exists():  # cgroup v2 (unified)
            self._make_v2(name, {"pids.max": str(limits.max_procs), "memory.max": mem})
            return
        wanted = {
            "pids": {"pids.max": str(limits.max_procs)},
            "memory": {"memory.limit_in_bytes": mem},
            "cpuacct": {},  # measures the command's CPU time (`cpu_seconds`)
        }
        for ctrl, files in wanted.items():
            base = _own_cgroup(ctrl)
            if base is not None:
                self._make(ctrl, base / name, files)

    def _make(self, key: str, d: Path, files: dict[str, str]) -> None:
        try:
            d.mkdir()
            for fname, value in files.items():
                (d / fname).write_text(value)
            self.dirs[key] = d
        except OSError:
            if d.exists():
                d.rmdir()

    def _make_v2(self, name: str, files: dict[str, str]) -> None:
        base = _own_cgroup("")
        if base is None:
            return
        try:
            (base / "cgroup.subtree_control").write_text("+pids +memory")
        except OSError:
            pass  # already enabled, or not delegated to us: then pids.max will be missing below
        d = base / name
        self._make("v2", d, {})
        if "v2" in self.dirs and not (d / "pids.max").exists():
            self.close()
            self.dirs.clear()
            return
        for fname, value in files.items():
            try:
                (d / fname).write_text(value)
            except OSError:
                pass
        self.dirs = {"pids": d, "memory": d} if (d / "memory.max").exists() else {"pids": d}
        if (d / "cpu.stat").exists():
            self.dirs["cpuacct"] = d

    @property
    def limits_procs(self) -> bool:
        return "pids" in self.dirs

    @property
    def limits_memory(self) -> bool:
        return "memory" in self.dirs

    def _unique(self) -> list[Path]:
        return list(dict.fromkeys(self.dirs.values()))

    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self._unique()]

    def kill_all(self) -> None:
        for d in self._unique():
            for _ in range(100):
                try:
                    pids = [int(x) for x in (d / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, 9)
                    except ProcessLookupError:
                        pass
                time.sleep(0.001)

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of every process that ran in the cgroup (None where not measured):
        exact for a sandbox whose processes are reaped inside its own pid namespace."""
        d = self.dirs.get("cpuacct")
        if d is None:
            return None
        try:
            if (d / "cpuacct.usage").exists():  # v1: nanoseconds
                return int((d / "cpuacct.usage").read_text()) / 1e9
            for line in (d / "cpu.stat").read_text().splitlines():  # v2: microseconds
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
        except (OSError, ValueError):
            return None
        return None

    def oom_killed(self) -> bool:
        d = self.dirs.get("memory")
        if d is None:
            return False
        f = d / ("memory.oom_control" if (d / "memory.oom_control").exists() else "memory.events")
        for line in f.read_text().splitlines():
            if line.startswith("oom_kill ") and line.split()[1] != "0":
                return True
        return False

    def close(self) -> None:
        self.kill_all()
        for d in self._unique():
            for _ in range(200):
                try:
                    d.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)


JOIN_SCRIPT = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"'


def limit_wrapper(limits: Limits, fsize_bytes: int, procs_files: list[str], *, nproc: bool = True,
                  user: SandboxUser | None = None, address_space: bool = True) -> list[str]:
    """An argv prefix that joins the cgroups, sets the rlimits, drops to the sandbox user and execs the rest.

    Two tiny execs (sh, prlimit; setpriv when a user is given) instead of a Python preexec_fn, so Popen can
    vfork (about 8 ms saved). `nproc=False` leaves RLIMIT_NPROC alone: it counts every process of the
    host uid, which all sandboxes share, so the per-command pids cgroup is the process limit when there.
    `address_space=False` leaves RLIMIT_AS alone (CUDA maps tens of GB of address space it never touches; the
    memory cgroup still bounds what is used)."""
    mem = limits.memory_mb * 1024 * 1024
    prlimit = [
        shutil.which("prlimit") or "/usr/bin/prlimit",
        f"--cpu={limits.cpu_seconds}",
        *([f"--as={mem}"] if address_space else []),
        f"--fsize={fsize_bytes}",
        *([f"--nproc={limits.max_procs}"] if nproc else []),
        "--core=0",
        "--",
    ]
    drop: list[str] = []
    if user is not None:
        drop = [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={user.uid}", f"--regid={user.gid}",
                "--clear-groups", "--no-new-privs", "--"]
    return ["/bin/sh", "-c", JOIN_SCRIPT, "sh", *procs_files, "--", *prlimit, *drop]


def join_cgroups(procs_files: list[str]) -> Callable[[], None]:
    def join() -> None:
        pid = str(os.getpid())
        for f in procs_files:
            with open(f, "w") as fh:
                fh.write(pid)

    return join


def disk_usage(root: Path) -> int:
    """Bytes allocated under `root` (st_blocks, hard links counted once, symlinks not followed)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += st.st_blocks * 512
    return total
