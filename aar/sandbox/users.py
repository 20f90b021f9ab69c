"""Who a sandboxed command is: one unprivileged host uid for every research sandbox, uid 1000 inside.

On the host, commands run as `sandbox_user()` (default uid/gid 1_900_000_000, `AAR_SANDBOX_UID` /
`AAR_SANDBOX_GID` to change; only when the host process is root, else as the caller). Inside, the user
namespace shows them as uid/gid 1000 (`aar`), so a command sees the same identity in every sandbox.

One uid for all sandboxes rather than one per agent: bubblewrap mounts tmpfs folders (/, /dev, /tmp,
/dev/shm) and the kernel prints their owner's *host* uid in /proc/self/mountinfo, so a per-agent uid would
let an idea tell an overseer re-run from its own runs. Agents are kept apart by their mount namespaces (no
sandbox has another's workspace mounted); the shared uid keeps every workspace away from other host users
and owns nothing else on the host. RLIMIT_NPROC counts per host uid, so the process limit is the
per-command pids cgroup (the rlimit is the fallback only where no cgroup is available).

A workspace folder is root's, mode 0700, with an ACL entry giving the sandbox user rwx: only it (and root)
can enter, and a command cannot open it to others. Before each command `settle` gives the sandbox user
whatever the host-side tools (running as root) wrote inside;
after it, with every process of the command dead, `settle` strips set-user-ID and set-group-ID bits, so no
setuid file outlives a command (inside, every writable mount is nosuid anyway).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

INSIDE_UID = 1000
INSIDE_GID = 1000
INSIDE_NAME = "aar"
DEFAULT_UID = 1_900_000_000
SETID = stat.S_ISUID | stat.S_ISGID


@dataclass(frozen=True)
class SandboxUser:
    uid: int
    gid: int


def sandbox_user() -> SandboxUser | None:
    """The host identity of sandboxed commands; None: they run as the calling (unprivileged) user."""
    if os.geteuid() != 0:
        return None
    uid = int(os.environ.get("AAR_SANDBOX_UID") or DEFAULT_UID)
    gid = int(os.environ.get("AAR_SANDBOX_GID") or uid)
    if uid == 0 or gid == 0:
        raise ValueError("AAR_SANDBOX_UID / AAR_SANDBOX_GID must not be 0 (root)")
    return SandboxUser(uid, gid)


def own_workspace(workspace: Path, user: SandboxUser | None) -> None:
    """Make the workspace private to the sandbox user: the folder itself stays root's, mode 0700, with one
    ACL entry `user:<sandbox uid>:rwx`, so a command can use it but not open it to others (it cannot chmod a
    folder it does not own); what it creates inside is its own. Nothing outside the workspace is changed.
    Without a sandbox user (the host process is not root) it is the caller's, mode 0700."""
    os.chmod(workspace, 0o700)
    if user is not None:
        from aar.sandbox.access import grant

        os.chown(workspace, 0, 0)
        grant(workspace, user, 7)


def settle(root: Path, user: SandboxUser | None) -> int:
    """Walk `root` without following symlinks: strip setuid/setgid bits, hand entries the sandbox user does
    not own to it (when given), and return the bytes allocated (st_blocks, hard links counted once).

    Runs only while no command of the sandbox is alive, through directory file descriptors (`os.fwalk`)
    and `O_NOFOLLOW` opens, so a symlink never redirects a change outside `root`."""
    total = 0
    seen: set[tuple[int, int]] = set()
    top = os.stat(root, follow_symlinks=False)
    total += _fix(None, str(root), top, None)  # the folder itself stays root's (see own_workspace)
    for _, dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        for name in dirnames + filenames:
            try:
                st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += _fix(dirfd, name, st, user)
    return total


def _fix(dirfd: int | None, name: str, st: os.stat_result, user: SandboxUser | None) -> int:
    if user is not None and (st.st_uid != user.uid or st.st_gid != user.gid):
        try:
            os.chown(name, user.uid, user.gid, dir_fd=dirfd, follow_symlinks=False)
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)  # chown may clear setid bits itself
        except OSError:
            pass
    if st.st_mode & SETID and (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        fd = os.open(name, flags, dir_fd=dirfd)
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                os.fchmod(fd, stat.S_IMODE(now.st_mode) & ~SETID)
        finally:
            os.close(fd)
    return st.st_blocks * 512
