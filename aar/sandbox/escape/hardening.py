"""Attempts on the hardening: setuid files left behind, a workspace other host users can read, the server
socket cut off, /dev/shm and other writable places past their bounds, the agent token in an argv."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from pathlib import Path

from aar.sandbox.base import RunResult
from aar.sandbox.escape.attempts import Attempt, _py
from aar.sandbox.escape.context import EscapeContext
from aar.sandbox.users import sandbox_user

OUTSIDER_UID = 1_899_999_999  # a host user that is neither root nor the sandbox user

SETUID = """
import ctypes, os, struct, subprocess
os.system("cp /bin/bash sbash && chmod 6755 sbash && mkdir -p sgdir && chmod 2777 sgdir")
os.system("cp /bin/bash sgdir/inner && chmod 4755 sgdir/inner && ln -f sbash hardlink 2>/dev/null")
st = os.stat("sbash")
print("mode", oct(st.st_mode))
out = subprocess.run(["./sbash", "-p", "-c", "id -u; cat /proc/self/status"], capture_output=True,
                     text=True).stdout
words = out.split()
if not words:
    print("ESCAPED? the setuid copy did not run (the check proves nothing)")
elif words[0] == "0" or "CapEff:\\t0000000000000000" not in out:
    print("ESCAPED: the setuid copy runs with privileges inside")
else:
    print("setuid copy runs as uid", words[0], "without capabilities")
cap = struct.pack("<IIIII", 0x02000002, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0)  # file capabilities, all
try:
    os.setxattr("sbash", "security.capability", cap)
    print("ESCAPED: set file capabilities")
except OSError as e:
    print("setcap refused:", e)
try:
    os.link("/usr/bin/passwd", "passwd_link")
    print("ESCAPED: hard-linked a setuid-root binary into the workspace")
except OSError as e:
    print("link refused:", e)
"""


def _setuid_left(ctx: EscapeContext, res: RunResult) -> str | None:
    """After the command: no setuid/setgid file or folder and nothing owned by host root in the workspace."""
    found = []
    for dirpath, dirnames, filenames in os.walk(ctx.workspace):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            if st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                found.append(f"{p.relative_to(ctx.workspace)} is {oct(stat.S_IMODE(st.st_mode))}")
            elif st.st_uid == 0 and sandbox_user() is not None:
                found.append(f"{p.relative_to(ctx.workspace)} is owned by host root")
    for name in ("sbash", "sgdir", "hardlink", "passwd_link"):
        p = ctx.workspace / name
        if p.is_dir():
            import shutil

            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()
    return "; ".join(found) or None


def _outsider_reads(ctx: EscapeContext, res: RunResult) -> str | None:
    """A host user other than root and the sandbox user tries to read and list what the command opened up."""
    mode = stat.S_IMODE(ctx.workspace.stat().st_mode)
    try:
        if sandbox_user() is None:  # not root: no other uid to try as; the folder's mode must do
            return f"{ctx.workspace} is mode {oct(mode)}" if mode & 0o077 else None
        for argv in (["cat", str(ctx.workspace / "open" / "note.txt")], ["ls", str(ctx.workspace)],
                     ["ls", str(ctx.workspace / "open")]):
            cp = subprocess.run(["setpriv", f"--reuid={OUTSIDER_UID}", f"--regid={OUTSIDER_UID}",
                                 "--clear-groups", "--", *argv], capture_output=True, text=True, timeout=10)
            if cp.returncode == 0:
                return f"another host user ran {' '.join(argv)}: {cp.stdout.strip()[:80]}"
        return None
    finally:
        subprocess.run(["rm", "-rf", str(ctx.workspace / "open"), str(ctx.workspace / "pub.txt")],
                       check=False)


def _socket_intact(ctx: EscapeContext, res: RunResult) -> str | None:
    try:
        st = ctx.socket.lstat()
    except FileNotFoundError:
        return "the server socket is gone"
    if not stat.S_ISSOCK(st.st_mode):
        return "the server socket was replaced"
    if stat.S_IMODE(st.st_mode) != 0o666:
        return f"the server socket is now {oct(stat.S_IMODE(st.st_mode))}"
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(3)
        s.connect(str(ctx.socket))
        if s.recv(8) != b"pong\n":
            return "the server no longer answers"
    if "REQUEST-OK" not in res.stdout:
        return "a request from inside failed after the attempts (the check proves nothing)"
    return None


SOCKET = """
import os, socket
p = os.environ["AAR_SERVER_UDS"]
for what, f in (("chmod", lambda: os.chmod(p, 0)), ("unlink", lambda: os.unlink(p)),
                ("rename", lambda: os.rename(p, p + ".x")), ("utime", lambda: os.utime(p, (0, 0))),
                ("chown", lambda: os.chown(p, os.getuid(), os.getgid()))):
    try:
        f(); print("ESCAPED", what)
    except OSError as e:
        print(what, "refused:", e)
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(p)
print("REQUEST-OK" if s.recv(8) == b"pong\\n" else "no answer")
"""

FLOOD = """
import os, sys
def fill(path, limit):
    n = 0
    try:
        with open(path, "wb") as fh:
            while n < limit:
                fh.write(b"x" * (1 << 20)); fh.flush(); n += 1 << 20
    except OSError as e:
        print(path, "stopped at", n >> 20, "MB:", e.strerror)
    return n
shm, tmp = int(sys.argv[1]), int(sys.argv[2])
for path, bound in (("/dev/shm/flood", shm), ("/tmp/flood", tmp)):
    n = fill(path, 4 * bound + (8 << 20))
    if n > bound: print("ESCAPED", path, "took", n >> 20, "MB past its", bound >> 20, "MB")
    os.unlink(path)
for path in ("/dev/flood", "/flood", "/aar/flood", "/etc/flood", "/proc/flood"):
    try:
        open(path, "xb").write(b"x"); print("ESCAPED wrote", path)
        os.unlink(path)  # leave nothing behind (under --kind none this is the host)
    except OSError as e:
        print(path, "refused:", e.strerror)
"""

MOUNTS = """
allowed = {"/workspace", "/tmp", "/dev/shm", "/dev/pts"}
devices = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}  # store nothing
for line in open("/proc/self/mountinfo"):
    f = line.split()
    point, opts = f[4], f[5].split(",")
    sep = f.index("-")
    fstype, super_opts = f[sep + 1], f[sep + 3].split(",")
    if point in devices or point.startswith("/dev/nvidia"):  # device nodes: writes go to the driver
        continue
    if "rw" in opts and point not in allowed:
        print("ESCAPED writable mount", point, fstype)
    if point in ("/tmp", "/dev/shm") and not any(o.startswith("size=") for o in super_opts):
        print("ESCAPED unbounded tmpfs", point)
    if "rw" in opts and "nosuid" not in opts:
        print("ESCAPED writable mount without nosuid", point)
print("checked")
"""


def _token_in_argv(ctx: EscapeContext) -> str | None:
    """While the command sleeps: the token is in no process's argv, and no other host user reads it from a
    sandbox process's environment."""
    deadline = time.monotonic() + 1.5
    pids: set[int] = set()
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if ctx.token.encode() in cmdline:
                return f"the agent token is in the argv of host pid {entry}: {cmdline[:60]!r}"
            if b"aar-token-probe" in cmdline:
                pids.add(int(entry))
        time.sleep(0.05)
    if not pids:
        return "the sleeping command was not seen (the check proves nothing)"
    if sandbox_user() is not None:
        for pid in sorted(pids):
            cp = subprocess.run(["setpriv", f"--reuid={OUTSIDER_UID}", f"--regid={OUTSIDER_UID}",
                                 "--clear-groups", "--", "cat", f"/proc/{pid}/environ"],
                                capture_output=True, timeout=10)
            if ctx.token.encode() in cp.stdout:
                return f"another host user read the token from /proc/{pid}/environ"
    return None


def attempts() -> list[Attempt]:
    A = Attempt
    return [
        A("setuid_plant", "leave setuid/setgid files, file capabilities or a hard link to a setuid-root "
          "binary in the workspace for host users to run", lambda c: _py(SETUID), _setuid_left),
        A("workspace_private", "open the workspace to every host user (chmod 777) and have one read it",
          lambda c: "umask 000; mkdir -p open && echo private > open/note.txt && "
                    "chmod 777 . open open/note.txt && echo x > pub.txt && chmod 666 pub.txt; ls -la",
          _outsider_reads),
        A("socket_tamper", "chmod 000 / unlink / rename / chown the server socket, then make a request",
          lambda c: _py(SOCKET), _socket_intact),
        A("shm_flood", "write past /dev/shm and /tmp, and into /dev, /, /aar, /etc, /proc",
          lambda c: _py(FLOOD) + f" {c.shm_bytes} {c.tmp_bytes}"),
        A("writable_mounts", "find a writable mount other than /workspace, /tmp, /dev/shm (and devpts), an "
          "unbounded tmpfs, or a writable mount without nosuid", lambda c: _py(MOUNTS)),
        A("token_in_cmdline", "read the agent token from /proc/*/cmdline on the host (and /proc/*/environ as "
          "another host user) while a command runs",
          lambda c: "exec -a aar-token-probe sleep 2", during=_token_in_argv, timeout=10),
    ]
