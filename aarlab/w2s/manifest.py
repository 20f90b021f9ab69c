"""The run manifest: what produced a predictions.json (seed, mode, data, code, library version).

`aarlab.w2s.run_idea` writes it as `manifest.json` next to the predictions; `evaluate` sends it to the
server, which stores it with the submission, so the overseer re-runs a claim from the server's record
rather than from numbers an agent wrote into a finding.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from aarlab.client.snapshots import tree_hash

MANIFEST = "manifest.json"


def data_hash(data_dir: Path) -> str:
    """sha256 over the public files of a data dir (meta, splits, weak artifacts), names and contents.

    meta.json counts without its `baselines`: the reference accuracies that a build adds mode by mode,
    while a team may already run (`aar demo` writes the finetune ceiling's after the team starts). No run
    reads them, and with them in the hash every submission made before they were written "named other
    data" than its re-run."""
    data_dir = Path(data_dir)
    h = hashlib.sha256()
    files = [data_dir / "meta.json", *sorted(data_dir.glob("*.jsonl"))]
    files += sorted((data_dir / "weak").glob("*.json"))
    for path in files:
        if path.is_file():
            raw = path.read_bytes()
            if path == data_dir / "meta.json":
                raw = _without_baselines(raw)
            h.update(path.relative_to(data_dir).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(raw).digest())
    return h.hexdigest()


def _without_baselines(raw: bytes) -> bytes:
    try:
        meta = json.loads(raw)
    except ValueError:
        return raw  # not JSON: hashed as it is
    if not isinstance(meta, dict):
        return raw
    meta.pop("baselines", None)
    return json.dumps(meta, sort_keys=True).encode()


def predictions_sha256(test: list[int]) -> str:
    """sha256 of the test predictions as a 0/1 byte vector (what the server hashes on receipt)."""
    return hashlib.sha256(bytes(int(x) for x in test)).hexdigest()


def library_version() -> str:
    try:
        return metadata.version("aar")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_manifest(*, seed: int, mode: str, data_dir: Path, idea_dir: Path, test: list[int]) -> dict:
    return {
        "seed": int(seed),
        "mode": mode,
        "data_hash": data_hash(data_dir),
        "code_hash": tree_hash(idea_dir),
        "aarlab_version": library_version(),
        "predictions_sha256": predictions_sha256(test),
    }


def write_manifest(out_dir: Path, manifest: dict) -> Path:
    path = Path(out_dir) / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return path
