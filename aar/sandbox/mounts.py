"""Which host paths a sandbox sees read-only: the system, the Python install, the venv and the aar source."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from aar.sandbox.users import INSIDE_GID, INSIDE_NAME, INSIDE_UID

SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
ETC_FILES = [
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/bash.bashrc",
    "/etc/mime.types",
    "/etc/ssl/certs",
    "/etc/os-release",
]


def python_paths() -> list[Path]:
    """The interpreter tree, the venv and the `aarlab` package (never their parents such as /work or /root).

    Of aar's code only `aarlab` (the research library and the client) is visible in a sandbox: the
    control plane and the trusted task code (`aar`) are not mounted; see `hidden_paths` for an
    installed (non-editable) copy inside the venv."""
    import aarlab

    lib = Path(aarlab.__file__).resolve().parent
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), lib}
    exe = Path(sys.executable)
    if exe.is_symlink():
        target = exe.resolve()
        if not any(target.is_relative_to(p) for p in paths):
            paths.add(target.parent)
    return sorted(paths)


def hidden_paths() -> list[Path]:
    """Paths under the mounted Python trees to cover with `hidden_stub()` (read-only): every `aar` package
    installed there (a non-editable install puts it next to `aarlab`, in the venv or the base Python),
    the one Python would import and any other copy in a site-packages folder of those trees."""
    roots = python_paths()
    found: set[Path] = set()
    spec = importlib.util.find_spec("aar")
    if spec is not None and spec.submodule_search_locations:
        found |= {Path(loc).resolve() for loc in spec.submodule_search_locations}
    for prefix in {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}:
        sites = [*prefix.glob("lib*/python3*/site-packages"), *prefix.glob("lib*/python3*/dist-packages")]
        for site in sites:
            if (site / "aar").is_dir():
                found.add((site / "aar").resolve())
    return sorted(p for p in found if any(p.is_relative_to(r) for r in roots))


STUB = 'raise ImportError("the aar control plane and task code are not available inside a sandbox")\n'


@functools.cache
def hidden_stub() -> Path:
    """A read-only stand-in for a hidden `aar` package: an `__init__.py` that raises ImportError (an empty
    folder would import as a namespace package)."""
    key = hashlib.sha256(STUB.encode()).hexdigest()[:12]
    final = Path(tempfile.gettempdir()) / f"aar-sandbox-hidden-{os.getuid()}-{key}"
    if (final / "__init__.py").is_file():
        return final
    root = Path(tempfile.mkdtemp(prefix="aar-sandbox-hidden-new-"))
    (root / "__init__.py").write_text(STUB)
    root.chmod(0o755)
    try:
        root.rename(final)
    except OSError:  # another process made it first
        shutil.rmtree(root, ignore_errors=True)
    return final


def _etc_key() -> str:
    h = hashlib.sha256((PASSWD + GROUP).encode())
    for f in ETC_FILES:
        p = Path(f)
        if p.exists() or p.is_symlink():
            st = p.lstat()
            h.update(f"{f}:{st.st_mtime_ns}:{st.st_size}".encode())
    return h.hexdigest()[:16]


PASSWD = "".join(f"{line}\n" for line in (
    "root:x:0:0:root:/nonexistent:/usr/sbin/nologin",
    f"{INSIDE_NAME}:x:{INSIDE_UID}:{INSIDE_GID}:{INSIDE_NAME}:/workspace:/bin/bash",
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
))
GROUP = f"root:x:0:\n{INSIDE_NAME}:x:{INSIDE_GID}:\nnogroup:x:65534:\n"


@functools.cache
def etc_copy() -> Path:
    """A copy of the few /etc entries a sandbox needs (no shadow, no keys; passwd and group name only the
    sandbox user, not the host's users), shared by processes until /etc changes. One bind of this folder is
    cheaper than a bind per file (about 6 ms per command)."""
    final = Path(tempfile.gettempdir()) / f"aar-sandbox-etc-{os.getuid()}-{_etc_key()}"
    if final.is_dir():
        return final
    root = Path(tempfile.mkdtemp(prefix="aar-sandbox-etc-new-"))
    for f in ETC_FILES:
        src = Path(f)
        dst = root / src.relative_to("/etc")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        elif src.exists():
            shutil.copy2(src, dst)
    (root / "passwd").write_text(PASSWD)
    (root / "group").write_text(GROUP)
    root.chmod(0o755)
    try:
        root.rename(final)
    except OSError:  # another process made it first
        shutil.rmtree(root, ignore_errors=True)
    return final


def system_binds() -> tuple[list[tuple[str, str]], list[tuple[Path, Path]]]:
    """(symlinks to recreate as (target, path), (source, destination) pairs to bind read-only)."""
    links: list[tuple[str, str]] = []
    binds: list[tuple[Path, Path]] = []
    for d in SYSTEM_DIRS:
        p = Path(d)
        if p.is_symlink():
            links.append((os.readlink(p), d))
        elif p.exists():
            binds.append((p, p))
    binds.append((etc_copy(), Path("/etc")))
    return links, binds
