"""The sandbox contract: spec, limits, result and the abstract `Sandbox`."""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path


class SandboxError(RuntimeError):
    """A sandbox could not be set up or run a command."""


class SandboxUnavailable(SandboxError):
    """The requested sandbox kind cannot run on this machine (no bwrap, no docker engine, ...)."""


@dataclass(frozen=True)
class Limits:
    """Per-command limits. Memory is address space per process plus (where cgroups allow) RSS per command."""

    cpu_seconds: int = 600
    memory_mb: int = 4096
    max_procs: int = 256
    wall_seconds: float = 900.0
    disk_mb: int = 2048
    tmp_mb: int = 256
    output_chars: int = 200_000


@dataclass
class SandboxSpec:
    workspace: Path
    ro_binds: list[Path] = field(default_factory=list)
    socket_path: Path | None = None
    limits: Limits = field(default_factory=Limits)


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool
    killed_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.killed_reason is None


class Sandbox(ABC):
    kind: str = "abstract"

    def __init__(self, spec: SandboxSpec) -> None:
        spec.workspace = Path(spec.workspace).resolve()
        spec.workspace.mkdir(parents=True, exist_ok=True)
        spec.ro_binds = [Path(p).resolve() for p in spec.ro_binds]
        if spec.socket_path is not None:
            spec.socket_path = Path(spec.socket_path).absolute()
        self.spec = spec

    @abstractmethod
    def run(self, command: str, timeout: float | None = None, env: dict[str, str] | None = None) -> RunResult:
        """Run `command` with `bash -c` inside the sandbox, cwd = workspace."""

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
            "HOME": str(self.spec.workspace),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if self.spec.socket_path is not None:
            out["AAR_SERVER_UDS"] = str(self.spec.socket_path)
        out.update(env or {})
        return out
