"""The hardened bubblewrap sandbox: an unprivileged user, no setuid file outlives a command, private
workspaces, a read-only server socket, bounded /tmp and /dev/shm, no secret in any argv; the cgroup, rlimit
and both disk quotas still apply."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from aar.sandbox import Limits, SandboxSpec, make_sandbox, quota
from aar.sandbox.users import INSIDE_UID, sandbox_user

SMALL = Limits(cpu_seconds=20, memory_mb=256, max_procs=32, wall_seconds=20, disk_mb=16, tmp_mb=4, shm_mb=4)
ROOT = os.geteuid() == 0
OUTSIDER = 1_899_999_998
_FORK_STORM = """
import errno, os, time
started = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
        started += 1
    print(started, "none")
except OSError as e:
    print(started, errno.errorcode[e.errno])
"""


def _ws(tmp_path: Path) -> Path:
    ws = tmp_path / "agent" / "workspace"
    ws.mkdir(parents=True)
    return ws


def _as_outsider(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", f"--reuid={OUTSIDER}", f"--regid={OUTSIDER}", "--clear-groups", "--",
                           *argv], capture_output=True, text=True, timeout=10)


def test_commands_run_as_the_unprivileged_sandbox_user(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    res = sb.run("id -u; id -g; id -G; whoami; echo made > made.txt; grep -E '^(Uid|CapEff|NoNewPrivs)' "
                 "/proc/self/status; grep ' /tmp/' /proc/self/mountinfo | head -1")
    assert res.ok, res.stderr
    lines = res.stdout.splitlines()
    assert lines[:4] == [str(INSIDE_UID), str(INSIDE_UID), str(INSIDE_UID), "aar"]
    assert "CapEff:\t0000000000000000" in res.stdout and "NoNewPrivs:\t1" in res.stdout
    assert "nosuid" in lines[-1]  # the workspace mount: set-user-ID bits mean nothing inside
    user = sandbox_user()
    st = (ws / "made.txt").stat()
    if ROOT:
        assert user is not None and (st.st_uid, st.st_gid) == (user.uid, user.gid) and st.st_uid != 0
        assert ws.stat().st_uid == 0  # the folder stays root's: the sandbox user has an ACL entry only
    assert stat.S_IMODE(ws.stat().st_mode) & 0o007 == 0


def test_the_workspace_is_private_even_when_a_command_opens_it(tmp_path: Path) -> None:
    assert ROOT, "acting as another host user needs root (the test machine and CI run as root)"
    ws = _ws(tmp_path)
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    parent = stat.S_IMODE(ws.parent.stat().st_mode)
    res = sb.run("echo secret > note.txt && chmod 666 note.txt && mkdir -m 777 open; chmod 777 .")
    assert "Operation not permitted" in res.stderr  # it cannot open the workspace itself ...
    assert stat.S_IMODE(ws.stat().st_mode) & 0o007 == 0
    assert stat.S_IMODE(ws.parent.stat().st_mode) == parent  # ... and nothing outside it was changed
    for argv in (["cat", str(ws / "note.txt")], ["ls", str(ws)], ["ls", str(ws / "open")]):
        cp = _as_outsider(*argv)
        assert cp.returncode != 0 and "Permission denied" in cp.stderr, argv


def test_no_setuid_file_outlives_a_command(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    res = sb.run("cp /bin/sh suid && chmod 6755 suid && mkdir sgid && chmod 2775 sgid && cp /bin/sh sgid/x "
                 "&& chmod 4755 sgid/x && stat -c %a suid sgid sgid/x")
    assert res.stdout.split() == ["6755", "2775", "4755"], res.stderr  # set inside ...
    for p in (ws / "suid", ws / "sgid", ws / "sgid" / "x"):
        assert not p.stat().st_mode & (stat.S_ISUID | stat.S_ISGID), p  # ... gone once it returns
    if ROOT:
        assert (ws / "suid").stat().st_uid != 0


def test_host_written_files_are_handed_to_the_sandbox_user(tmp_path: Path) -> None:
    """The host tools (root) write into the workspace; the next command can change what they wrote."""
    ws = _ws(tmp_path)
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    (ws / "idea").mkdir()
    (ws / "idea" / "main.py").write_text("x = 1\n")
    os.chmod(ws / "idea" / "main.py", 0o644)
    (ws / "link").symlink_to("/etc/passwd")  # lchown only: the host file it names stays as it is
    before = os.stat("/etc/passwd")
    res = sb.run("echo y = 2 >> idea/main.py && touch idea/new && cat idea/main.py")
    assert res.ok and res.stdout == "x = 1\ny = 2\n", res.stderr
    after = os.stat("/etc/passwd")
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)


def test_workspace_under_a_closed_folder_is_reached_through_an_acl(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    ws = closed / "run" / "workspace"
    ws.mkdir(parents=True)
    res = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL)).run("pwd")
    assert res.ok and res.stdout.strip() == str(ws), res.stderr
    if ROOT:
        assert _as_outsider("ls", str(closed)).returncode != 0  # passing through is all the ACL grants


def test_server_socket_is_read_only_but_answers(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    path = tmp_path / "server.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    path.chmod(0o666)
    srv.listen(4)
    srv.settimeout(10)

    def serve() -> None:
        conn, _ = srv.accept()
        conn.sendall(b"pong")
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    code = ("import os, socket\np = os.environ['AAR_SERVER_UDS']\n"
            "for f in (lambda: os.chmod(p, 0), lambda: os.unlink(p), lambda: os.rename(p, p + '2')):\n"
            "    try:\n        f(); print('changed')\n    except OSError as e:\n        print(e.strerror)\n"
            "s = socket.socket(socket.AF_UNIX); s.connect(p); print(s.recv(8).decode())")
    res = make_sandbox("bwrap", SandboxSpec(ws, [], path, SMALL)).run(f"python -c \"{code}\"")
    t.join(5)
    srv.close()
    lines = res.stdout.split("\n")  # chmod: EROFS; unlink and rename of the mount point: EROFS or EBUSY
    assert lines[0] == "Read-only file system" and lines[3] == "pong", res.stdout + res.stderr
    assert set(lines[1:3]) <= {"Read-only file system", "Device or resource busy"}, lines
    assert stat.S_IMODE(path.stat().st_mode) == 0o666


def test_tmp_and_dev_shm_are_bounded_and_dev_is_read_only(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    res = sb.run("head -c 6000000 /dev/zero > /dev/shm/a; echo shm=$?; head -c 6000000 /dev/zero > /tmp/a; "
                 "echo tmp=$?; du -k /dev/shm/a /tmp/a; touch /dev/x; echo dev=$?")
    assert "shm=1" in res.stdout and "tmp=1" in res.stdout and "dev=1" in res.stdout
    assert res.stderr.count("No space left on device") == 2 and "Read-only file system" in res.stderr
    sizes = [int(line.split()[0]) for line in res.stdout.splitlines()
             if line.endswith(("/dev/shm/a", "/tmp/a"))]
    assert sizes and max(sizes) <= 4 * 1024


def test_tmpfs_pages_count_against_the_memory_limit(tmp_path: Path) -> None:
    """/tmp and /dev/shm are memory: filling them past memory_mb (within their own bounds) is a kill."""
    ws = _ws(tmp_path)
    lim = Limits(cpu_seconds=20, memory_mb=64, max_procs=32, wall_seconds=20, disk_mb=512, tmp_mb=256,
                 shm_mb=256)
    res = make_sandbox("bwrap", SandboxSpec(ws, [], None, lim)).run(
        "for i in 1 2 3 4 5 6; do head -c 20000000 /dev/zero > /dev/shm/f$i; done; echo survived")
    assert "survived" not in res.stdout
    assert res.killed_reason is not None and "memory" in res.killed_reason


def test_the_token_is_in_no_argv(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    token = "tok-" + os.urandom(8).hex()
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL))
    seen: list[str] = []
    found: list[str] = []

    def scan() -> None:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"token-probe" in cmd:
                    seen.append(pid)
                if token.encode() in cmd:
                    found.append(pid)
            time.sleep(0.05)

    t = threading.Thread(target=scan)
    t.start()
    res = sb.run("exec -a token-probe sleep 2", env={"AAR_AGENT_TOKEN": token})
    t.join()
    assert res.ok and seen and not found
    assert sb.run("echo $AAR_AGENT_TOKEN", env={"AAR_AGENT_TOKEN": token}).stdout.strip() == token


def test_concurrent_sandboxes_do_not_share_a_process_limit(tmp_path: Path) -> None:
    """All sandboxes are one host uid, so RLIMIT_NPROC (per uid) would be shared: the per-command pids
    cgroup is the limit, and two commands can each run most of it at once."""
    boxes = [make_sandbox("bwrap", SandboxSpec(_ws(tmp_path / str(i)), [], None, SMALL)) for i in range(2)]
    out: list = [None, None]
    cmd = "for i in $(seq 20); do sleep 2 & done; sleep 0.5; jobs -r | wc -l; wait"
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, boxes[i].run(cmd))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.stdout.strip() for r in out] == ["20", "20"], [r.stderr for r in out]
    # and the cgroup still stops a fork storm; os.fork fails at once where bash would retry for seconds
    fork = boxes[0].run(f"python3 -c {shlex.quote(_FORK_STORM)}")
    assert fork.ok, fork.stderr
    started, refused = fork.stdout.split()
    assert refused == "EAGAIN" and 0 < int(started) < SMALL.max_procs, fork.stdout


def test_rlimits_apply_to_the_sandbox_user(tmp_path: Path) -> None:
    sb = make_sandbox("bwrap", SandboxSpec(_ws(tmp_path), [], None, SMALL))
    res = sb.run("ulimit -t; ulimit -v; ulimit -c")
    assert res.stdout.split() == [str(SMALL.cpu_seconds), str(SMALL.memory_mb * 1024), "0"]


def test_hard_quota_volume_belongs_to_the_sandbox_user(tmp_path: Path) -> None:
    assert quota.available(), "the hard quota needs root, loop devices and mkfs.ext4 (as on the test machine)"
    ws = _ws(tmp_path)
    (ws / "old.txt").write_text("kept\n")
    sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL), hard_disk_quota=True)
    try:
        assert quota.is_mountpoint(ws)
        res = sb.run("cat old.txt && echo new > new.txt && head -c 30000000 /dev/zero > big; echo rc=$?; "
                     "grep ' /tmp/' /proc/self/mountinfo | head -1")
        assert "kept" in res.stdout and "rc=1" in res.stdout
        user = sandbox_user()
        assert user is not None and (ws / "new.txt").stat().st_uid == user.uid
        assert ws.stat().st_uid == 0 and stat.S_IMODE(ws.stat().st_mode) & 0o007 == 0
        assert (ws / "big").stat().st_size < SMALL.disk_mb * 1024 * 1024
        with open("/proc/self/mountinfo") as fh:
            opts = next(line.split()[5] for line in fh if line.split()[4] == str(ws))
        assert "nosuid" in opts and "nodev" in opts  # on the host too
    finally:
        sb.close()
    assert not quota.is_mountpoint(ws)


def test_a_volume_left_by_a_killed_holder_can_be_dropped(tmp_path: Path) -> None:
    """A process killed while its sandbox held the workspace volume leaves it mounted (no close ran): the
    folder holding it cannot be removed until `drop_volumes_under` unmounts it (what an agent's node does
    before it unpacks the head's copy of the agent)."""
    assert quota.available(), "the hard quota needs root, loop devices and mkfs.ext4 (as on the test machine)"
    agent = tmp_path / "agents" / "a"
    ws = agent / "workspace"
    ws.mkdir(parents=True)
    assert quota.mount_volume(ws, 8)
    (ws / "f.txt").write_text("x")
    try:
        with pytest.raises(OSError):  # EBUSY on the mount point
            shutil.rmtree(agent)
        quota.drop_volumes_under(agent)
        assert not quota.is_mountpoint(ws)
        shutil.rmtree(agent)
        assert not agent.exists()
    finally:
        if ws.exists() and quota.is_mountpoint(ws):
            subprocess.run(["umount", str(ws)], check=False)


def test_volumes_under_a_folder_with_a_space_are_found(tmp_path: Path) -> None:
    """/proc/self/mountinfo writes a space in a mount point as `\\040`: a cache folder with a space in its
    path ($AAR_CACHE) still has its workspace volumes seen as mounted and dropped."""
    assert quota.available(), "the hard quota needs root, loop devices and mkfs.ext4 (as on the test machine)"
    agent = tmp_path / "my cache" / "agents" / "a"
    ws = agent / "workspace"
    ws.mkdir(parents=True)
    assert quota.mount_volume(ws, 8)
    try:
        assert quota.is_mountpoint(ws)
        assert not quota.mount_volume(ws, 8)  # already mounted: not mounted twice
        quota.drop_volumes_under(agent)
        assert not quota.is_mountpoint(ws)
        shutil.rmtree(agent)
    finally:
        for _ in range(3):  # before the fix it was mounted twice, unseen
            if ws.exists() and subprocess.run(["mountpoint", "-q", str(ws)]).returncode == 0:
                subprocess.run(["umount", str(ws)], check=False)
