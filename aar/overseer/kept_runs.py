"""Baseline re-runs kept across runs (`--baseline-runs DIR`, under the host cache in `aar demo`).

A baseline is fixed code run on fixed data: the same baseline on the same held-out draw with the same
models gives the same predictions in every run, so its verification runs are computed once per
(baseline code, research library and torch versions, data, models, kind, seed and the runner's
settings) and their predictions handed to the server again in later runs (the server still scores them;
nothing here holds a label). Runs on permuted weak labels are not kept (each run draws its own
permutation), nor are agents' claims: each claim's re-runs happen in its own run.

The folder lives beside the task secret, outside anything a sandbox mounts (mode 0700).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from aarlab.client.snapshots import tree_hash
from aarlab.w2s.manifest import data_hash

ZOO_META = "aar_zoo.json"


def _model_identity(path: str) -> str:
    """A model by its build record and its files' names, sizes and modification times (a rebuild, the
    blank twin's included, changes them); a path that is not a folder by the path."""
    folder = Path(path)
    h = hashlib.sha256()
    try:
        h.update((folder / ZOO_META).read_bytes())
    except OSError:
        h.update(f"path:{path}".encode())
    if folder.is_dir():
        for f in sorted(folder.iterdir()):
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _library() -> str:
    """The research library the baselines run (`aarlab`) and torch: a new version means new runs."""
    import aarlab

    try:
        from importlib.metadata import version

        torch = version("torch")
    except Exception:  # noqa: BLE001 - no torch metadata: keyed without it
        torch = "?"
    return tree_hash(Path(aarlab.__file__).parent) + ":" + torch


class KeptRuns:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)

    def key(self, idea: Path, data: Path, run: dict) -> str:
        """`run`: what else the run depends on (kind, task, draw, seed, label, models, the runner's sandbox
        and threads)."""
        meta = json.loads((Path(data) / "meta.json").read_text())
        used = {**(meta.get("models") or {}), **(run.get("models") or {})}
        parts = {
            "idea": tree_hash(idea),
            "data": data_hash(data),  # what the manifest names: a ceiling added to meta.json keeps the runs
            "library": _library(),
            "run": {k: v for k, v in run.items() if k != "models"},
            "models": {role: _model_identity(str(p)) for role, p in sorted(used.items())},
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        try:
            run = json.loads((self.root / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        return run if isinstance(run, dict) and isinstance(run.get("predictions"), list) else None

    def put(self, key: str, run: dict) -> None:
        if "error" in run:
            return  # a failed run is tried again next time
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{key}.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(run))
        os.replace(tmp, self.root / f"{key}.json")
