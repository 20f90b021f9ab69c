"""Baseline re-runs kept across runs (`--baseline-runs DIR`, under the host cache in `aar demo`).

A baseline is fixed code run on fixed data: the same baseline on the same held-out draw with the same
models gives the same predictions in every run, so its verification runs are computed once per
(code, data, models, run label) and their predictions handed to the server again in later runs (the
server still scores them; nothing here holds a label). Agents' claims are never kept: each claim's
re-runs happen in its own run.

The folder lives beside the task secret, outside anything a sandbox mounts (mode 0700).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from aarlab.client.snapshots import tree_hash

ZOO_META = "aar_zoo.json"


def _model_identity(path: str) -> str:
    """A zoo model by its build record (final loss, build seconds, secret tag: one per build); any other
    model by its path."""
    meta = Path(path) / ZOO_META
    try:
        return hashlib.sha256(meta.read_bytes()).hexdigest()
    except OSError:
        return f"path:{path}"


class KeptRuns:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)

    def key(self, idea: Path, data: Path, label: str, models: dict[str, str] | None) -> str:
        meta = json.loads((Path(data) / "meta.json").read_text())
        used = {**(meta.get("models") or {}), **(models or {})}
        parts = {
            "idea": tree_hash(idea),
            "data": tree_hash(data),
            "label": label,
            "models": {role: _model_identity(str(p)) for role, p in sorted(used.items())},
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        try:
            run = json.loads((self.root / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        return run if isinstance(run, dict) and isinstance(run.get("predictions"), list) else None

    def put(self, key: str, run: dict) -> None:
        if "error" in run:
            return  # a failed run is tried again next time
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(run))
        tmp.replace(self.root / f"{key}.json")
