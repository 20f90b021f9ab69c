"""No isolation at all: only behind an explicit allow flag, with a loud warning. Limits still apply."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from aar.sandbox.base import RunResult, Sandbox, SandboxError, SandboxSpec
from aar.sandbox.limits import disk_usage, rlimit_preexec
from aar.sandbox.process import execute

log = logging.getLogger(__name__)

WARNING = (
    "SANDBOX DISABLED (kind='none'): agent commands run directly on this machine with this user's files, "
    "network and environment visible. Use only for debugging trusted code."
)


class NoSandbox(Sandbox):
    kind = "none"

    def __init__(self, spec: SandboxSpec, allow_unsafe: bool = False) -> None:
        if not allow_unsafe:
            raise SandboxError(
                "sandbox kind 'none' needs an explicit allow_unsafe=True (--unsafe-no-sandbox)"
            )
        super().__init__(spec)
        log.warning(WARNING)

    def inside(self, target: str | Path) -> Path:
        """No mount namespace: a command sees the host paths behind the spec's targets."""
        return self.spec.host_path(target) or Path(target)

    def host_path(self, inside: str | Path) -> Path | None:
        p = Path(inside)
        roots = [self.spec.workspace, *self.read_roots()]
        return p if any(p == r or r in p.parents for r in roots) else None

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
        wall = min(timeout, lim.wall_seconds) if timeout is not None else lim.wall_seconds
        return execute(
            ["/bin/bash", "-c", command],
            env=self.base_env(env),
            wall=wall,
            preexec=rlimit_preexec(lim, room),
            output_chars=lim.output_chars,
            workspace=self.spec.workspace,
            disk_quota=quota,
            cwd=str(self.spec.workspace),
            cancel=cancel,
        )
