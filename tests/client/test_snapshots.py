"""Snapshot packing is deterministic; unpacking refuses anything that could escape or is not a plain file."""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from aarlab.client.snapshots import UnsafeArchive, check_archive, pack, unpack


def _idea(root: Path) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "run.py").write_text("def main(ctx):\n    return None\n")
    (root / "lib" / "helpers.py").write_text("X = 1\n")
    (root / "config.json").write_text('{"lr": 0.1}')
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"junk")
    return root


def test_pack_is_deterministic_and_roundtrips(tmp_path: Path) -> None:
    idea = _idea(tmp_path / "idea")
    first = pack(idea)
    os.utime(idea / "run.py", (time.time() + 1000, time.time() + 1000))
    assert pack(idea) == first  # mtimes do not matter
    out = unpack(first, tmp_path / "out")
    assert (out / "run.py").read_text() == (idea / "run.py").read_text()
    assert (out / "lib" / "helpers.py").read_text() == "X = 1\n"
    assert not (out / "__pycache__").exists()
    assert check_archive(first).n_files == 3


def test_pack_skips_symlinks(tmp_path: Path) -> None:
    idea = _idea(tmp_path / "idea")
    (idea / "escape").symlink_to("/etc/passwd")
    names = tarfile.open(fileobj=io.BytesIO(pack(idea)), mode="r:gz").getnames()
    assert "escape" not in names and "run.py" in names


def _tar(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, link
        data = b"pwned" if kind == tarfile.REGTYPE else b""
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _tar("../escape.txt"),
        _tar("ok/../../escape.txt"),
        _tar("/tmp/aar-abs-escape.txt"),
        _tar("link", tarfile.SYMTYPE, "/etc/passwd"),
        _tar("hard", tarfile.LNKTYPE, "/etc/passwd"),
        _tar("dev", tarfile.CHRTYPE),
        _tar("blk", tarfile.BLKTYPE),
        _tar("fifo", tarfile.FIFOTYPE),
        b"not a tar at all",
        b"\x1f\x8b\x08\x00garbage",
    ],
)
def test_unpack_refuses_unsafe(tmp_path: Path, data: bytes) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchive):
        unpack(data, dest)
    assert not (tmp_path / "escape.txt").exists() and not Path("/tmp/aar-abs-escape.txt").exists()
    assert not dest.exists() or not any(dest.iterdir())


def test_unpack_does_not_follow_links_in_destination(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    with pytest.raises(UnsafeArchive):
        unpack(_tar("sub/file.txt"), dest)
    assert not (outside / "file.txt").exists()


def test_check_archive_limits(tmp_path: Path) -> None:
    idea = _idea(tmp_path / "idea")
    (idea / "big.bin").write_bytes(b"\0" * 100_000)
    data = pack(idea)
    with pytest.raises(UnsafeArchive):
        check_archive(data, max_unpacked=50_000)
    with pytest.raises(UnsafeArchive):
        check_archive(data, max_members=2)
