"""Content-addressed artifacts: a task's public data dir and its model dirs packed into deterministic
tar.gz blobs named by their sha256, and unpacked once per node into that node's cache.

A *data bundle* (JSON-safe dict) names what a research view needs on a node:

    {"public": "<sha256 of the packed public dir>", "models": {"weak": "sha256:<d>", "strong": "<HF name>"}}

`pack_public` packs only what `aar.sandbox.layout.stage_data` reads from a public dir (the neutral meta
keys, the three data files, the weak soft labels), so nothing else in a task folder, and never a
`private/` folder, can reach a worker node. `materialize` turns a bundle into a node-local public dir
whose meta.json names the node-local model dirs; the research view is then staged from it as usual.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

from aar.sandbox.layout import DATA_FILES, META_KEYS, ROLES

MODEL_PREFIX = "sha256:"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack_files(files: dict[str, bytes]) -> bytes:
    """A deterministic tar.gz of `files` (relative name -> content): sorted, fixed times and owners."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def pack_dir(folder: Path, skip: tuple[str, ...] = (), *, follow_symlinks: bool = False) -> bytes:
    """Every regular file under `folder` (names in `skip` at the top level left out). Links are left out,
    never followed: the folders packed here (an agent's folder with its workspace, a re-run's out/) are
    written by sandboxed commands, and a link made inside a sandbox names any path of the host that packs
    it (the task secret, private labels, other processes' environments). `follow_symlinks` only for trusted
    model dirs (a hub snapshot's files are links to its blobs)."""
    folder = Path(folder)
    files = _files_following(folder, skip) if follow_symlinks else _files_no_links(folder, skip)
    return pack_files(files)


def _files_following(folder: Path, skip: tuple[str, ...]) -> dict[str, bytes]:
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] in skip or not path.is_file():
            continue
        files[str(rel)] = path.read_bytes()
    return files


def _files_no_links(folder: Path, skip: tuple[str, ...]) -> dict[str, bytes]:
    """Regular files only, walked by file descriptor (`os.fwalk` descends no linked folder, each file is
    opened with O_NOFOLLOW), so a link swapped in while a sandbox still writes here redirects nothing."""
    files = {}
    for dirpath, dirnames, filenames, dirfd in os.fwalk(folder, follow_symlinks=False):
        rel_dir = Path(dirpath).relative_to(folder)
        if rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        for name in filenames:
            data = read_regular(name, dirfd)
            if data is not None:
                files[str(rel_dir / name)] = data
    return files


def read_regular(name: str, dirfd: int) -> bytes | None:
    """The bytes of `name` in `dirfd` if it is a regular file there (not a link, fifo, device); else None."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dirfd)
    except OSError:  # a link (ELOOP), or gone meanwhile
        return None
    with open(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        return fh.read()


def unpack(data: bytes, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")  # refuses absolute names, `..` and links out of `dest`


def pack_public(public: Path) -> tuple[bytes, dict[str, str]]:
    """The public dir in the form a worker node may receive, and its models (role -> host dir or HF name)."""
    public = Path(public)
    meta = json.loads((public / "meta.json").read_text())
    models = {r: str(m) for r, m in (meta.get("models") or {}).items() if r in ROLES}
    neutral = {k: meta[k] for k in META_KEYS if k in meta}
    neutral["models"] = {r: f"<{r}>" for r in models}  # filled with node-local dirs by `materialize`
    files = {"meta.json": json.dumps(neutral, indent=1, sort_keys=True).encode()}
    for name in DATA_FILES:
        files[name] = (public / name).read_bytes()
    for path in sorted((public / "weak").glob("seed*.json")):
        doc = json.loads(path.read_text())
        files[f"weak/{path.name}"] = json.dumps(
            {"seed": int(doc["seed"]), "train_unlabel": doc["train_unlabel"]}
        ).encode()
    return pack_files(files), models


def is_shipped(model: str) -> bool:
    return model.startswith(MODEL_PREFIX)


class Packer:
    """Head side: packs public dirs and model dirs once per process and hands each new blob to `put`."""

    def __init__(self, put: Callable[[str, bytes], None], has: Callable[[str], bool]):
        self.put, self.has = put, has
        self._packed: dict[tuple[str, float], str] = {}

    def _publish(self, key: tuple[str, float], make: Callable[[], bytes]) -> str:
        if key in self._packed:
            return self._packed[key]
        data = make()
        d = digest(data)
        if not self.has(d):
            self.put(d, data)
        self._packed[key] = d
        return d

    def model(self, model: str) -> str:
        """A model's bundle entry: `sha256:<digest>` for a local dir, the name itself for an HF name."""
        path = Path(model)
        if not path.is_absolute():
            return model
        if not path.is_dir():
            raise FileNotFoundError(f"model dir {path} does not exist")
        stamp = max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)
        packed = self._publish((str(path.resolve()), stamp), lambda: pack_dir(path, follow_symlinks=True))
        return MODEL_PREFIX + packed

    def bundle(self, public: Path, models: dict[str, str] | None = None) -> dict:
        """The data bundle of a public dir; `models` replaces host model dirs (e.g. a blank strong model)."""
        public = Path(public).resolve()
        blob, host_models = pack_public(public)
        d = digest(blob)
        if (str(public), 0.0) not in self._packed and not self.has(d):
            self.put(d, blob)
        self._packed[(str(public), 0.0)] = d
        host_models.update(models or {})
        return {"public": d, "models": {r: self.model(m) for r, m in sorted(host_models.items())}}


def _log_fetch(cache: Path, name: str, size: int) -> None:
    with open(cache / "fetched.jsonl", "a") as f:
        f.write(json.dumps({"t": time.time(), "artifact": name, "bytes": size}) + "\n")


def artifact_dir(cache: Path, d: str, fetch: Callable[[str], bytes]) -> Path:
    """The unpacked artifact `d` in this node's cache: fetched and unpacked by the first caller only."""
    root = cache / "artifacts"
    root.mkdir(parents=True, exist_ok=True)
    dest = root / d
    if dest.is_dir():
        return dest
    with open(root / f"{d}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not dest.is_dir():
            data = fetch(d)
            if digest(data) != d:
                raise ValueError(f"artifact {d[:12]} arrived with another digest")
            tmp = root / f"{d}.part"
            if tmp.exists():
                shutil.rmtree(tmp)
            unpack(data, tmp)
            tmp.rename(dest)
            _log_fetch(root, d, len(data))
    return dest


def materialize(bundle: dict, cache: Path, fetch: Callable[[str], bytes]) -> Path:
    """A node-local public dir for `bundle` (built once per node and bundle): the public files with
    meta.json naming this node's copies of the models."""
    key = digest(json.dumps(bundle, sort_keys=True).encode())
    dest = Path(cache) / "data" / key / "public"
    if (dest / "meta.json").is_file():
        return dest
    public = artifact_dir(cache, bundle["public"], fetch)
    models = {
        role: str(artifact_dir(cache, m[len(MODEL_PREFIX) :], fetch)) if is_shipped(m) else m
        for role, m in bundle["models"].items()
    }
    tmp = dest.with_name(f"public.{time.time_ns()}.part")
    shutil.copytree(public, tmp)
    meta = json.loads((tmp / "meta.json").read_text())
    meta["models"] = models
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    try:
        tmp.rename(dest)
    except OSError:  # another worker on this node built it first
        shutil.rmtree(tmp)
    return dest
