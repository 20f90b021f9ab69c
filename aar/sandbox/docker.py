"""The docker sandbox: same contract as bwrap, through the docker CLI (`docker run --network none ...`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid

from aar.sandbox.base import RunResult, Sandbox, SandboxSpec, SandboxUnavailable
from aar.sandbox.mounts import hidden_paths, python_paths
from aar.sandbox.process import execute

DEFAULT_IMAGE = "debian:bookworm-slim"


def docker_engine_version(docker: str, timeout: float = 10.0) -> str:
    """The engine's version, or raise SandboxUnavailable saying why no engine answers."""
    try:
        cp = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise SandboxUnavailable(f"docker engine did not answer within {timeout:g}s") from e
    if cp.returncode != 0 or not cp.stdout.strip():
        msg = (cp.stderr or cp.stdout).strip().splitlines()
        raise SandboxUnavailable("no docker engine answers: " + (msg[-1] if msg else f"exit {cp.returncode}"))
    return cp.stdout.strip()


class DockerSandbox(Sandbox):
    """One `docker run --rm` per command: no network, read-only root, caps dropped, no-new-privileges,
    pids/memory/cpu limits, the workspace bound read-write and everything else read-only at real paths.
    The image must provide the same glibc as the host Python (default: Debian bookworm)."""

    kind = "docker"

    def __init__(self, spec: SandboxSpec, image: str | None = None, docker: str | None = None) -> None:
        super().__init__(spec)
        exe = docker or shutil.which("docker")
        if exe is None:
            raise SandboxUnavailable("docker CLI not found on PATH")
        self.docker = exe
        self.engine = docker_engine_version(exe)
        self.image = image or os.environ.get("AAR_DOCKER_IMAGE", DEFAULT_IMAGE)

    def argv(self, command: str, env: dict[str, str], name: str) -> list[str]:
        s, lim = self.spec, self.spec.limits
        args = [
            self.docker,
            "run",
            "--rm",
            "-i",
            "--name",
            name,
            "--network",
            "none",
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--ipc",
            "none",
            "--pids-limit",
            str(lim.max_procs),
            "--memory",
            f"{lim.memory_mb}m",
            "--memory-swap",
            f"{lim.memory_mb}m",
            "--ulimit",
            f"cpu={lim.cpu_seconds}",
            "--ulimit",
            f"nproc={lim.max_procs}",
            "--tmpfs",
            f"/tmp:size={lim.tmp_mb}m",
            "--workdir",
            str(s.workspace_inside),
            "--user",
            f"{os.getuid()}:{os.getgid()}",
        ]
        for p in python_paths() + s.ro_binds:
            args += ["--mount", f"type=bind,src={p},dst={p},readonly"]
        for hidden in hidden_paths():  # an installed `aar` (control plane, task code) next to `aarlab`
            args += ["--tmpfs", f"{hidden}:ro,size=64k"]
        for m in s.mounts:
            args += ["--mount", f"type=bind,src={m.source},dst={m.target},readonly"]
        args += ["--mount", f"type=bind,src={s.workspace},dst={s.workspace_inside}"]
        if s.socket_path is not None:
            args += ["--mount", f"type=bind,src={s.socket_path},dst={s.socket_inside}"]
        for k, v in env.items():
            args += ["--env", f"{k}={v}"]
        return args + [self.image, "/bin/bash", "-c", command]

    def run(
        self,
        command: str,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        lim = self.spec.limits
        name = f"aar-sbx-{uuid.uuid4().hex[:12]}"
        wall = min(timeout, lim.wall_seconds) if timeout is not None else lim.wall_seconds

        def kill() -> None:
            subprocess.run([self.docker, "kill", name], capture_output=True, timeout=30)

        res = execute(
            self.argv(command, self.base_env(env), name),
            env=dict(os.environ),
            wall=wall,
            preexec=None,
            output_chars=lim.output_chars,
            workspace=self.spec.workspace,
            disk_quota=lim.disk_mb * 1024 * 1024,
            on_kill=kill,
            cancel=cancel,
        )
        res.cpu_seconds = None  # the work ran in the container, not in our children: not measured here
        return res
