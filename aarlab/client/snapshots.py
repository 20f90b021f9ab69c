"""Snapshots: deterministic tar.gz of an idea folder, and a safe unpack.

`pack` sorts entries and zeroes mtimes/owners so the same folder always gives the same bytes (and the
same sha256 id). `check_archive` / `unpack` refuse absolute paths, `..`, links, devices and anything
that is not a plain file or folder, and Python bytecode (`__pycache__/`, `*.pyc`): a snapshot is its
source, and an import prefers a cached `.pyc` to the `.py` beside it, so bytecode would run code that no
key of the snapshot (`tree_hash`, `aar.methods.run_key`) describes. The server runs `check_archive` on every
upload before storing it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

SKIP_DIRS = {"__pycache__", ".git", ".ipynb_checkpoints"}
BYTECODE_SUFFIXES = (".pyc", ".pyo")


class UnsafeArchive(ValueError):
    """The archive is malformed or holds a member that is unsafe to unpack."""


def _entries(folder: Path) -> list[Path]:
    out: list[Path] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in SKIP_DIRS for part in rel.parts) or path.suffix.lower() in BYTECODE_SUFFIXES:
            continue
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            continue
        out.append(path)
    return out


def tree_hash(folder: str | Path) -> str:
    """sha256 over the files a snapshot of `folder` would hold (relative names and contents, sorted)."""
    folder = Path(folder)
    h = hashlib.sha256()
    for path in _entries(folder):
        if path.is_file():
            h.update(path.relative_to(folder).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def pack(folder: str | Path) -> bytes:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _entries(folder):
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size = len(data)
                info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=6) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _safe_name(name: str) -> str:
    if not name or "\x00" in name or "\\" in name:
        raise UnsafeArchive(f"bad member name {name!r}")
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/"):
        raise UnsafeArchive(f"absolute path in archive: {name!r}")
    if any(part == ".." for part in p.parts):
        raise UnsafeArchive(f"'..' in archive path: {name!r}")
    return name


def _is_bytecode(name: str) -> bool:
    p = PurePosixPath(name)
    return "__pycache__" in p.parts or p.suffix.lower() in BYTECODE_SUFFIXES


@dataclass(frozen=True)
class ArchiveInfo:
    n_files: int
    unpacked_bytes: int


def _open(data: bytes) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise UnsafeArchive(f"not a readable tar.gz archive: {exc}") from None


def check_archive(
    data: bytes, *, max_unpacked: int = 500 * 1024 * 1024, max_members: int = 10_000
) -> ArchiveInfo:
    """Validate every member without extracting; raise `UnsafeArchive` on the first problem."""
    n_files = total = 0
    tar = _open(data)
    try:
        with tar:
            for i, member in enumerate(tar):
                if i >= max_members:
                    raise UnsafeArchive(f"archive has more than {max_members} members")
                _safe_name(member.name)
                if _is_bytecode(member.name):
                    raise UnsafeArchive(
                        f"Python bytecode is not accepted in a snapshot: {member.name!r} (upload the source; "
                        "`pack` leaves __pycache__ and *.pyc out)"
                    )
                if member.isdir():
                    continue
                if not member.isreg():
                    raise UnsafeArchive(f"only plain files and folders are allowed: {member.name!r}")
                total += member.size
                if total > max_unpacked:
                    raise UnsafeArchive(f"archive unpacks to more than {max_unpacked} bytes")
                n_files += 1
                fh = tar.extractfile(member)
                if fh is not None:  # read through so truncated/corrupt data is caught here
                    while fh.read(1 << 20):
                        pass
    except (tarfile.TarError, OSError, EOFError, ValueError, gzip.BadGzipFile) as exc:
        if isinstance(exc, UnsafeArchive):
            raise
        raise UnsafeArchive(f"corrupt tar.gz archive: {exc}") from None
    return ArchiveInfo(n_files=n_files, unpacked_bytes=total)


def unpack(data: bytes, dest: str | Path) -> Path:
    """Check the archive, then write its files under `dest` (created if missing). Returns `dest`."""
    check_archive(data)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with _open(data) as tar:
        for member in tar:
            target = (root / _safe_name(member.name)).resolve()
            if target != root and root not in target.parents:
                raise UnsafeArchive(f"member escapes destination: {member.name!r}")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                raise UnsafeArchive(f"destination holds a link at {member.name!r}")
            fh = tar.extractfile(member)
            assert fh is not None
            target.write_bytes(fh.read())
            target.chmod(0o755 if member.mode & 0o111 else 0o644)
    return dest
