"""Content-addressed task bundles: only the public view's files are packed (never a label), packing is
deterministic, and a node fetches each blob once and stages a view from its own copy."""

from __future__ import annotations

import json
from pathlib import Path

from aar.cluster.bundles import Packer, digest, materialize, pack_public
from aar.cluster.experiment import untar
from aar.sandbox.layout import stage_data


def test_public_pack_holds_no_private_data(tiny_tasks: Path) -> None:
    public = tiny_tasks / "math" / "heldout" / "public"
    blob, models = pack_public(public)
    files = untar(blob)
    assert set(files) == {"meta.json", "train_label.jsonl", "train_unlabel.jsonl", "test.jsonl"} | {
        f"weak/{p.name}" for p in (public / "weak").glob("seed*.json")
    }
    meta = json.loads(files["meta.json"])
    assert "secret" not in meta and "draw" not in meta and set(meta["models"]) == set(models)
    for name in ("train_unlabel.jsonl", "test.jsonl"):
        assert all("label" not in json.loads(x) for x in files[name].decode().splitlines())
    private = json.loads((tiny_tasks / "math" / "heldout" / "private" / "labels.json").read_text())
    assert json.dumps(private["test"]).encode() not in blob
    assert pack_public(public)[0] == blob  # deterministic: the same content has the same name


def test_a_node_fetches_each_blob_once(tiny_tasks: Path, tmp_path: Path) -> None:
    blobs: dict[str, bytes] = {}
    packer = Packer(put=blobs.__setitem__, has=blobs.__contains__)
    bundle = packer.bundle(tiny_tasks / "math" / "main" / "public")
    assert all(digest(b) == d for d, b in blobs.items()) and len(blobs) == 3  # data, weak and strong models
    fetched: list[str] = []

    def fetch(d: str) -> bytes:
        fetched.append(d)
        return blobs[d]

    node = tmp_path / "node-cache"
    first = materialize(bundle, node, fetch)
    again = materialize(bundle, node, fetch)
    assert first == again and sorted(fetched) == sorted(blobs)  # once per blob
    meta = json.loads((first / "meta.json").read_text())
    for model in meta["models"].values():
        assert Path(model).is_relative_to(node) and (Path(model) / "aar_zoo.json").is_file()
    view = stage_data(first, tmp_path / "view" / "data")
    assert json.loads((view.data / "meta.json").read_text())["models"] == {
        "strong": "/aar/models/strong",
        "weak": "/aar/models/weak",
    }
