"""Sandboxes for agent commands: `make_sandbox("bwrap" | "docker" | "none", spec)`."""

from __future__ import annotations

from typing import Literal

from aar.sandbox.base import Limits, Mount, RunResult, Sandbox, SandboxError, SandboxSpec, SandboxUnavailable

SandboxKind = Literal["bwrap", "docker", "none"]


def make_sandbox(
    kind: SandboxKind | str, spec: SandboxSpec, *, allow_unsafe: bool = False, hard_disk_quota: bool = False
) -> Sandbox:
    """Build a sandbox. `none` refuses unless `allow_unsafe=True` and then warns loudly.

    `hard_disk_quota` (bwrap, needs root + loop devices): the workspace is mounted from a fixed-size ext4
    image (see `aar.sandbox.quota`) until `close()`; otherwise the quota is the soft one."""
    if kind == "bwrap":
        from aar.sandbox.bwrap import BwrapSandbox

        return BwrapSandbox(spec, hard_disk_quota=hard_disk_quota)
    if kind == "docker":
        from aar.sandbox.docker import DockerSandbox

        return DockerSandbox(spec)
    if kind == "none":
        from aar.sandbox.none import NoSandbox

        return NoSandbox(spec, allow_unsafe=allow_unsafe)
    raise SandboxError(f"unknown sandbox kind {kind!r}; expected bwrap, docker or none")


__all__ = [
    "Limits",
    "Mount",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "SandboxSpec",
    "SandboxUnavailable",
    "make_sandbox",
]
