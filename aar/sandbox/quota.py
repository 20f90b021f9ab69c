"""A hard workspace disk quota: the workspace becomes the mount point of a fixed-size ext4 image.

Writes past the image size fail with ENOSPC inside the kernel, whatever the number of writers. The volume
is only the workspace's container while a sandbox holds it: files are copied in at mount and back out at
unmount (the image is then removed), so between sandboxes the workspace is a plain folder. Its mount shows
no host path in /proc/self/mountinfo (a bind of a folder shows the folder's path).
Needs root (CAP_SYS_ADMIN), a free loop device and mkfs.ext4; `available()` says whether they are there.
Without it the sandbox falls back to its soft quota (file-size rlimit = room left + a watcher that kills
the command when the workspace passes the quota), which parallel writers can overshoot briefly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from aar.sandbox.base import SandboxError


def mount_points() -> list[str]:
    """The mount points of /proc/self/mountinfo as paths: the kernel writes a space, tab, newline and
    backslash in them as octal escapes (`\\040`...), decoded here so they compare with real paths."""
    with open("/proc/self/mountinfo") as fh:
        return [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4]) for line in fh]


def is_mountpoint(path: Path) -> bool:
    return str(path.resolve()) in mount_points()


def available() -> bool:
    return (
        os.geteuid() == 0
        and shutil.which("mkfs.ext4") is not None
        and shutil.which("mount") is not None
        and Path("/dev/loop-control").exists()
    )


def image_path(workspace: Path) -> Path:
    return workspace.parent / f".{workspace.name}.ext4"


def mount_volume(workspace: Path, size_mb: int) -> bool:
    """Mount a `size_mb` ext4 image on `workspace`, its current files copied in. False if already mounted."""
    workspace = workspace.resolve()
    if is_mountpoint(workspace):
        return False
    if not available():
        raise SandboxError("hard disk quota needs root, /dev/loop-control and mkfs.ext4")
    img = image_path(workspace)
    if not img.exists():  # an image left by a process that died while mounted keeps its files
        with open(img, "wb") as fh:
            fh.truncate(size_mb * 1024 * 1024)
        _run(["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal", str(img)])
    staged = None
    if workspace.exists() and any(workspace.iterdir()):
        staged = workspace.with_name(workspace.name + ".staging")
        workspace.rename(staged)
    workspace.mkdir(parents=True, exist_ok=True)
    _run(["mount", "-o", "loop,nosuid,nodev", str(img), str(workspace)])
    lost = workspace / "lost+found"
    if lost.is_dir() and not any(lost.iterdir()):
        lost.rmdir()
    if staged is not None:
        _copy_tree(staged, workspace)
        shutil.rmtree(staged)
    return True


def unmount_volume(workspace: Path) -> None:
    """Unmount, with the files copied back into a plain folder and the image removed, so the workspace is an
    ordinary folder again between sandboxes (`mount_volume` copies them in the next time). If the copy fails
    the volume stays mounted, files and all."""
    workspace = workspace.resolve()
    if not is_mountpoint(workspace):
        return
    out = workspace.with_name(f".{workspace.name}.unmounting")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    _copy_tree(workspace, out)
    _run(["umount", str(workspace)])
    if any(workspace.iterdir()):  # files under the mount point (written while it was not mounted): keep them
        _copy_tree(workspace, out)
        shutil.rmtree(workspace)
    else:
        workspace.rmdir()
    out.rename(workspace)
    image_path(workspace).unlink(missing_ok=True)


def drop_volumes_under(folder: Path) -> None:
    """Unmount every volume mounted at or under `folder`, deepest first, its files dropped: for a folder
    about to be deleted that holds the workspace of a sandbox whose process was killed while it held the
    volume (its files live on in the copy the caller keeps elsewhere, e.g. the head's copy of an agent)."""
    target = str(Path(folder).resolve())
    inside = [p for p in mount_points() if p == target or p.startswith(target + "/")]
    for point in sorted(inside, key=len, reverse=True):
        _run(["umount", point])


def _copy_tree(src: Path, dst: Path) -> None:
    """Everything under `src` into `dst`: owners, modes, links, fifos and times kept (`cp -a`)."""
    _run(["cp", "-a", "--no-target-directory", f"{src}/.", str(dst)])


def _run(argv: list[str]) -> None:
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if cp.returncode != 0:
        raise SandboxError(f"{' '.join(argv)} failed: {cp.stderr.strip()}")
