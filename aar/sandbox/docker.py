"""The docker sandbox: same contract as bwrap, through the docker CLI (`docker run --network none ...`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

from aar.sandbox.access import ensure_readable
from aar.sandbox.base import RunResult, Sandbox, SandboxError, SandboxSpec, SandboxUnavailable
from aar.sandbox.mounts import hidden_paths, hidden_stub, python_paths
from aar.sandbox.process import execute
from aar.sandbox.users import settle

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
    pids/memory/cpu limits, the workspace bound read-write and everything else read-only at real paths, the
    server socket read-only, bounded /tmp and /dev/shm, as the sandbox user (`aar.sandbox.users`; docker
    has no user namespace here, so a command sees that host uid). The environment goes through a 0600
    `--env-file` (removed after the run), not the argv. The GPU profile passes `--gpus device=...`.
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
        self.own_workspace()
        for m in spec.mounts:  # docker binds every mount (no copies): the sandbox user must read them
            ensure_readable(m.source, self.user)

    def base_env(self, env: dict[str, str] | None) -> dict[str, str]:
        out = {} if self.spec.hf_cache is None else self.spec.hf_cache.env()
        out.update(super().base_env(env))
        gpu = self.spec.gpu
        if gpu is not None:  # docker shows the --gpus devices as 0..k-1
            selected = gpu.select(out.get("CUDA_VISIBLE_DEVICES"))
            out["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(len(selected)))
        return out

    def argv(self, command: str, env_file: Path, name: str,
             host_env: dict[str, str] | None = None) -> list[str]:
        """The docker command line; the environment is in `env_file` (see `write_env_file`)."""
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
            "--tmpfs",
            f"/tmp:size={lim.tmp_mb}m",
            "--tmpfs",
            f"/dev/shm:size={lim.shm_mb}m",
            "--workdir",
            str(s.workspace_inside),
            "--user",
            f"{self.user.uid}:{self.user.gid}" if self.user else f"{os.getuid()}:{os.getgid()}",
            "--env-file",
            str(env_file),
        ]
        if s.gpu is not None:
            selected = s.gpu.select((host_env or {}).get("CUDA_VISIBLE_DEVICES"))
            if selected:
                args += ["--gpus", '"device=' + ",".join(selected) + '"']
        if s.hf_cache is not None and s.hf_cache.source is not None:
            args += ["--mount", f"type=bind,src={s.hf_cache.source},dst={s.hf_cache.target},readonly"]
        for p in python_paths() + s.ro_binds:
            args += ["--mount", f"type=bind,src={p},dst={p},readonly"]
        for hidden in hidden_paths():  # an installed `aar` (control plane, task code) next to `aarlab`
            args += ["--mount", f"type=bind,src={hidden_stub()},dst={hidden},readonly"]
        for m in s.mounts:
            args += ["--mount", f"type=bind,src={m.source},dst={m.target},readonly"]
        args += ["--mount", f"type=bind,src={s.workspace},dst={s.workspace_inside}"]
        if s.socket_path is not None:
            args += ["--mount", f"type=bind,src={s.socket_path},dst={s.socket_inside},readonly"]
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

        with tempfile.TemporaryDirectory(prefix="aar-docker-env-") as tmp:  # 0700
            env_file = write_env_file(Path(tmp) / "env", self.base_env(env))
            settle(self.spec.workspace, self.user)
            res = execute(
                self.argv(command, env_file, name, env),
                env=dict(os.environ),
                wall=wall,
                preexec=None,
                output_chars=lim.output_chars,
                workspace=self.spec.workspace,
                disk_quota=lim.disk_mb * 1024 * 1024,
                on_kill=kill,
                cancel=cancel,
                final_usage=lambda w: settle(w, self.user),
            )
        res.cpu_seconds = None  # the work ran in the container, not in our children: not measured here
        return res


def write_env_file(path: Path, env: dict[str, str]) -> Path:
    """A docker --env-file (mode 0600): one VAR=value a line; values with a newline cannot be passed."""
    bad = [k for k, v in env.items() if "\n" in v or "\n" in k or "=" in k]
    if bad:
        raise SandboxError(f"environment variables {bad} cannot go through docker's --env-file")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.writelines(f"{k}={v}\n" for k, v in env.items())
    return path
