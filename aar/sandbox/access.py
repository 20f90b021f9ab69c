"""Let the sandbox user reach the host folders a sandbox binds: search (x) on their blocking ancestors.

bubblewrap runs as the unprivileged sandbox user and resolves every bind source with that user's rights,
so a source under a 0700 folder (/root/.pyenv, a 0700 temp dir) cannot be bound. For each such ancestor we
add one POSIX ACL entry, `user:<sandbox uid>:--x`: the sandbox user may pass through the folder (not list
or read it); no other user's rights change (the owning group's entry is kept; a new mask is that entry
plus x, an existing mask gains only x: a named group with x masked off would gain x, nothing else).
Only bubblewrap's setup uses it: inside a sandbox no host path is mounted above the
binds. The ACL is written as the `system.posix_acl_access` xattr, so no acl tools are needed.
"""

from __future__ import annotations

import errno
import os
import struct
import threading
from pathlib import Path

from aar.sandbox.base import SandboxError
from aar.sandbox.users import SandboxUser

XATTR = "system.posix_acl_access"
VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
UNDEFINED = 0xFFFFFFFF
_lock = threading.Lock()


def ensure_reachable(paths: list[Path], user: SandboxUser | None) -> None:
    """Grant `user` search permission on every ancestor of `paths` it could not pass through. Checked
    afresh each time (a stat and an xattr read per folder, once per sandbox), since folders change."""
    if user is None:
        return
    with _lock:
        ancestors = {a for path in paths for a in Path(path).absolute().parents}
        for parent in sorted(ancestors, key=lambda a: len(a.parts)):
            if not can_search(parent, user):
                grant_search(parent, user)


def can_search(d: Path, user: SandboxUser) -> bool:
    return can(d, user, 1)


def can(path: Path, user: SandboxUser, perm: int) -> bool:
    """Whether `user` has all of `perm` (4 r, 2 w, 1 x) on `path` by its owner, ACL, group or other bits."""
    st = os.stat(path)
    mode = st.st_mode
    if st.st_uid == user.uid:
        return (mode >> 6) & perm == perm
    entries = _read_acl(path)
    if entries:
        mine = [p for t, p, i in entries if t == USER and i == user.uid]
        mask = next((p for t, p, _ in entries if t == MASK), 7)
        if mine:
            return mine[0] & mask & perm == perm
    if st.st_gid == user.gid:
        return (mode >> 3) & perm == perm
    return mode & perm == perm


def grant_search(d: Path, user: SandboxUser) -> None:
    grant(d, user, 1)


def ensure_readable(root: Path, user: SandboxUser | None) -> None:
    """Let `user` read every file and list every folder under `root` (a model dir bound read-only): an ACL
    entry where the modes do not already allow it (safetensors writes its files 0600)."""
    if user is None:
        return
    with _lock:
        for dirpath, _, filenames in os.walk(root):
            if not can(Path(dirpath), user, 5):
                grant(Path(dirpath), user, 5)
            for name in filenames:
                p = Path(dirpath) / name
                if not p.is_symlink() and p.is_file() and not can(p, user, 4):
                    grant(p, user, 4)


def grant(path: Path, user: SandboxUser, perm: int) -> None:
    """Add `perm` to `user`'s ACL entry on `path` (creating the ACL from the mode bits if there is none)."""
    st = os.stat(path)
    entries = _read_acl(path) or [
        (USER_OBJ, (st.st_mode >> 6) & 7, UNDEFINED),
        (GROUP_OBJ, (st.st_mode >> 3) & 7, UNDEFINED),
        (OTHER, st.st_mode & 7, UNDEFINED),
    ]
    mine = next((p for t, p, i in entries if t == USER and i == user.uid), 0)
    old_mask = next((p for t, p, _ in entries if t == MASK), None)
    entries = [e for e in entries if not (e[0] == USER and e[2] == user.uid) and e[0] != MASK]
    entries.append((USER, mine | perm, user.uid))
    if old_mask is None:  # a new mask that changes no one's rights: the owning group's entry, plus perm
        mask = next(p for t, p, _ in entries if t == GROUP_OBJ) | perm
    else:  # widened by perm only, so no other named entry gains a right it had masked
        mask = old_mask | perm
    entries.append((MASK, mask, UNDEFINED))
    entries.sort(key=lambda e: (e[0], e[2]))
    blob = struct.pack("<I", VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)
    try:
        os.setxattr(path, XATTR, blob)
    except OSError as e:
        why = "the file system has no POSIX ACLs" if e.errno in (errno.EOPNOTSUPP, errno.ENOTSUP) else e
        raise SandboxError(
            f"the sandbox user (uid {user.uid}) cannot use {path} and granting it failed ({why}); "
            f"make it readable/searchable for all (chmod o+rx) or keep the sandbox's files elsewhere"
        ) from e


def _read_acl(d: Path) -> list[tuple[int, int, int]]:
    try:
        blob = os.getxattr(d, XATTR)
    except OSError:
        return []
    if len(blob) < 4 or struct.unpack_from("<I", blob)[0] != VERSION:
        return []
    return [struct.unpack_from("<HHI", blob, off) for off in range(4, len(blob) - 7, 8)]
