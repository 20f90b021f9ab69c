"""The bubblewrap sandbox: what is visible, writable and reachable inside, and its limits."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import pytest

from aar.sandbox import Limits, SandboxError, SandboxSpec, SandboxUnavailable, make_sandbox
from aar.sandbox.docker import DockerSandbox, write_env_file
from aar.sandbox.users import SandboxUser

SMALL = Limits(cpu_seconds=20, memory_mb=512, max_procs=32, wall_seconds=10, disk_mb=4, tmp_mb=8)


@pytest.fixture()
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    ws, data = tmp_path / "ws", tmp_path / "data"
    ws.mkdir()
    data.mkdir()
    (data / "meta.json").write_text('{"task": "t"}')
    (tmp_path / "secret.txt").write_text("outside")
    return ws, data


def test_workspace_data_and_env(dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    ws, data = dirs
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-parent-secret")
    sb = make_sandbox("bwrap", SandboxSpec(ws, [data], None, SMALL))
    res = sb.run(
        f"pwd; echo hi > out.txt; cat {data}/meta.json; env; touch {data}/x; cat {ws.parent}/secret.txt",
        env={"AAR_AGENT_TOKEN": "tok"},
    )
    assert (ws / "out.txt").read_text() == "hi\n"
    assert res.stdout.splitlines()[0] == str(ws)
    assert '{"task": "t"}' in res.stdout and "AAR_AGENT_TOKEN=tok" in res.stdout
    assert "sk-parent-secret" not in res.stdout + res.stderr
    assert f"HOME={ws}" in res.stdout
    assert "Read-only file system" in res.stderr and not (data / "x").exists()
    assert "No such file" in res.stderr and "outside" not in res.stdout


def test_python_and_aar_import_inside(dirs: tuple[Path, Path]) -> None:
    ws, _ = dirs
    res = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL)).run(
        "python -c 'import aarlab.client, sys; print(sys.version_info[:2])'"
    )
    assert res.returncode == 0, res.stderr
    assert "(3, 11)" in res.stdout


def test_unix_socket_is_the_only_way_out(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    ws, _ = dirs
    sock_path = tmp_path / "server.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(sock_path))
    sock_path.chmod(0o666)  # as `aar serve` makes it: the sandbox user connects
    srv.listen(1)

    def serve() -> None:
        conn, _ = srv.accept()
        conn.sendall(b"pong:" + conn.recv(16))
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    code = (
        "import os, socket; s = socket.socket(socket.AF_UNIX); s.connect(os.environ['AAR_SERVER_UDS']); "
        "s.sendall(b'ping'); print(s.recv(32).decode())"
    )
    res = make_sandbox("bwrap", SandboxSpec(ws, [], sock_path, SMALL)).run(f'python -c "{code}"')
    t.join(5)
    srv.close()
    assert res.stdout.strip() == "pong:ping", res.stderr


def test_wall_time_kills_the_whole_group(dirs: tuple[Path, Path]) -> None:
    ws, _ = dirs
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    res = sb.run("(sleep 30; echo late > late.txt) & sleep 30", timeout=1.0)
    assert res.timed_out and res.seconds < 5 and res.killed_reason
    assert not (ws / "late.txt").exists()


def test_soft_disk_quota_caps_a_single_writer(dirs: tuple[Path, Path]) -> None:
    ws, _ = dirs
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    res = sb.run("head -c 20000000 /dev/zero > big")
    assert res.returncode != 0
    assert (ws / "big").stat().st_size <= SMALL.disk_mb * 1024 * 1024


def test_none_needs_the_flag_and_warns(dirs: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    ws, _ = dirs
    with pytest.raises(SandboxError, match="allow_unsafe"):
        make_sandbox("none", SandboxSpec(ws, [], None, SMALL))
    with caplog.at_level(logging.WARNING):
        sb = make_sandbox("none", SandboxSpec(ws, [], None, SMALL), allow_unsafe=True)
    assert "SANDBOX DISABLED" in caplog.text
    assert sb.run("echo ok").stdout == "ok\n"


def test_docker_without_engine_is_a_clear_error(
    dirs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, _ = dirs
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(SandboxUnavailable, match="docker"):
        make_sandbox("docker", SandboxSpec(ws, [], None, SMALL))
    monkeypatch.setattr("aar.sandbox.docker.shutil.which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="docker CLI not found"):
        make_sandbox("docker", SandboxSpec(ws, [], None, SMALL))


def test_docker_command_line_has_the_same_walls(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    ws, data = dirs
    sb = DockerSandbox.__new__(DockerSandbox)
    sock = tmp_path / "server.sock"
    sb.spec, sb.docker, sb.image = SandboxSpec(ws, [data], sock, SMALL), "docker", "img"
    sb.user = SandboxUser(1234, 5678)
    env = sb.base_env({"AAR_AGENT_TOKEN": "tok-secret"})
    env_file = write_env_file(tmp_path / "env", env)
    argv = sb.argv("echo hi", env_file, "n1")
    joined = " ".join(argv)
    for flag in ("--network none", "--read-only", "--cap-drop ALL", "--pids-limit 32", "--memory 512m",
                 "--user 1234:5678", f"--env-file {env_file}", "/tmp:size=8m",
                 f"/dev/shm:size={SMALL.shm_mb}m"):
        assert flag in joined
    assert f"type=bind,src={data},dst={data},readonly" in joined
    assert f"type=bind,src={sock},dst={sock},readonly" in joined
    assert f"type=bind,src={ws},dst={ws}" in joined and argv[-3:] == ["/bin/bash", "-c", "echo hi"]
    assert "tok-secret" not in joined  # the token is in the env file only
    assert (env_file.stat().st_mode & 0o777) == 0o600
    assert "AAR_AGENT_TOKEN=tok-secret\n" in env_file.read_text()
    with pytest.raises(SandboxError, match="env-file"):
        write_env_file(tmp_path / "env2", {"X": "a\nb"})


def test_soft_disk_quota_watcher_kills_many_small_writers(dirs: tuple[Path, Path]) -> None:
    ws, _ = dirs
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    res = sb.run("for i in 1 2 3 4 5 6 7 8 9 10; do head -c 1000000 /dev/zero > f$i; sleep 0.4; done")
    assert res.killed_reason and "disk quota" in res.killed_reason
    assert len(list(ws.glob("f*"))) < 10
