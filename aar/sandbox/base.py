"""The sandbox contract: spec, limits, result and the abstract `Sandbox`."""

from __future__ import annotations

import sys
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aar.sandbox.users import SandboxUser, own_workspace, sandbox_user

if TYPE_CHECKING:
    from aar.sandbox.gpu import GpuProfile, HfCache


class SandboxError(RuntimeError):
    """A sandbox could not be set up or run a command."""


class SandboxUnavailable(SandboxError):
    """The requested sandbox kind cannot run on this machine (no bwrap, no docker engine, ...)."""


@dataclass(frozen=True)
class Limits:
    """Per-command limits. Memory is address space per process plus (where cgroups allow) RSS per command.

    Writable places and their bounds: the workspace (`disk_mb`, kept between commands), /tmp (`tmp_mb`) and
    /dev/shm (`shm_mb`), two tmpfs made fresh for each command; tmpfs pages are memory, charged to the
    command's memory cgroup, so /tmp + /dev/shm + RSS together stay under `memory_mb` as well. A command
    given a GPU has no address-space rlimit where the memory cgroup is there (CUDA reserves far more
    address space than it uses)."""

    cpu_seconds: int = 600
    memory_mb: int = 4096
    max_procs: int = 256
    wall_seconds: float = 900.0
    disk_mb: int = 2048
    tmp_mb: int = 256
    output_chars: int = 200_000
    shm_mb: int = 256


@dataclass(frozen=True)
class Mount:
    """A host path (`source`) shown read-only inside the sandbox at `target`.

    `copy=True` (a small folder such as a staged data dir): bubblewrap copies the files into a fresh
    read-only tmpfs for each command instead of binding the folder, so /proc/self/mountinfo does not show
    the host path behind it (a bind shows its source path there)."""

    source: Path
    target: Path
    copy: bool = False


@dataclass
class SandboxSpec:
    """What a command sees. `workspace` (host path) is writable and shown at `workspace_target` (default:
    its own path); `ro_binds` are shown read-only at their own paths, `mounts` at their targets; the server
    socket (host path `socket_path`) at `socket_target` (default: its own path)."""

    workspace: Path
    ro_binds: list[Path] = field(default_factory=list)
    socket_path: Path | None = None
    limits: Limits = field(default_factory=Limits)
    mounts: list[Mount] = field(default_factory=list)
    workspace_target: Path | None = None
    socket_target: Path | None = None
    gpu: GpuProfile | None = None  # device nodes of the command's CUDA_VISIBLE_DEVICES (aar.sandbox.gpu)
    hf_cache: HfCache | None = None  # a Hugging Face hub cache, read-only, offline

    @property
    def workspace_inside(self) -> Path:
        return self.workspace_target or self.workspace

    @property
    def socket_inside(self) -> Path | None:
        return None if self.socket_path is None else (self.socket_target or self.socket_path)

    def host_path(self, inside: str | Path) -> Path | None:
        """The host path of a path as a command inside sees it (None: nothing is mounted there)."""
        p = Path(inside)
        roots = [(self.workspace_inside, self.workspace), *((m.target, m.source) for m in self.mounts)]
        roots += [(b, b) for b in self.ro_binds]
        for target, source in sorted(roots, key=lambda r: -len(r[0].parts)):
            if p == target or target in p.parents:
                return source / p.relative_to(target)
        return None


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool
    killed_reason: str | None = None
    # measured, not wall x threads: user + system CPU of the command's process tree (os.wait4 of the
    # command; None where the work runs outside our children, e.g. in a docker container)
    cpu_seconds: float | None = None
    node: str | None = None  # the machine the command ran on (`aar.cluster.node.node_name`), when told
    waited: float | None = None  # seconds it waited for compute (a queue slot or Ray resources), when told

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.killed_reason is None


class Sandbox(ABC):
    kind: str = "abstract"

    def __init__(self, spec: SandboxSpec) -> None:
        spec.workspace = Path(spec.workspace).resolve()
        spec.workspace.mkdir(parents=True, exist_ok=True)
        spec.ro_binds = [Path(p).resolve() for p in spec.ro_binds]
        spec.mounts = [Mount(Path(m.source).resolve(), Path(m.target), m.copy) for m in spec.mounts]
        if spec.socket_path is not None:
            spec.socket_path = Path(spec.socket_path).absolute()
        self.spec = spec
        self.user: SandboxUser | None = None

    def own_workspace(self) -> None:
        """Run commands as the unprivileged sandbox user, owner of the (0700) workspace."""
        self.user = sandbox_user()
        own_workspace(self.spec.workspace, self.user)

    def inside(self, target: str | Path) -> Path:
        """The path at which a command sees `target` (a spec target: the workspace target, a mount
        target or a path below one). Sandboxes that can place mounts show it as is."""
        return Path(target)

    def host_path(self, inside: str | Path) -> Path | None:
        """The host path behind a path as a command sees it (None: nothing is mounted there)."""
        return self.spec.host_path(inside)

    def read_roots(self) -> list[Path]:
        """Host folders a command can read but not write (mounts and read-only binds)."""
        return [m.source for m in self.spec.mounts] + list(self.spec.ro_binds)

    @abstractmethod
    def run(
        self,
        command: str,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Run `command` with `bash -c` inside the sandbox, cwd = workspace. Setting `cancel` (from another
        thread) kills the command like a breached limit, with `killed_reason` "cancelled"."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the sandbox holds (a mounted workspace volume); the workspace files stay."""

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def base_env(self, env: dict[str, str] | None) -> dict[str, str]:
        """The only environment a sandboxed command sees: nothing inherited from the parent."""
        out = {
            "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.inside(self.spec.workspace_inside)),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if self.spec.socket_inside is not None:
            out["AAR_SERVER_UDS"] = str(self.inside(self.spec.socket_inside))
        out.update(env or {})
        return out
