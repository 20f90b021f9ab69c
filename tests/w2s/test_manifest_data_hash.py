"""`aarlab.w2s.manifest.data_hash`: what a run's manifest says it ran on. The build's reference accuracies
(meta.json `baselines`), which a demo's build adds while the team runs, do not change it; anything a run
reads does."""

from __future__ import annotations

import json
from pathlib import Path

from aarlab.w2s.manifest import data_hash


def _data(root: Path) -> Path:
    (root / "weak").mkdir(parents=True)
    meta = {"task": "t", "n": {"test": 2}, "baselines": {"probe": {"weak_acc": 0.6, "strong_acc": 0.9}}}
    (root / "meta.json").write_text(json.dumps(meta))
    (root / "test.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n')
    (root / "weak" / "seed0.json").write_text(json.dumps({"seed": 0, "train_unlabel": [0.2, 0.7]}))
    return root


def test_a_ceiling_written_later_leaves_the_hash_alone(tmp_path: Path) -> None:
    data = _data(tmp_path / "d")
    before = data_hash(data)
    meta = json.loads((data / "meta.json").read_text())
    meta["baselines"]["finetune"] = {"weak_acc": 0.6, "strong_acc": 0.88}
    (data / "meta.json").write_text(json.dumps(meta, indent=1))  # and written out another way
    assert data_hash(data) == before


def test_what_a_run_reads_changes_it(tmp_path: Path) -> None:
    base = data_hash(_data(tmp_path / "base"))
    split = _data(tmp_path / "split")
    (split / "test.jsonl").write_text('{"text": "a"}\n{"text": "c"}\n')
    weak = _data(tmp_path / "weak")
    (weak / "weak" / "seed0.json").write_text(json.dumps({"seed": 0, "train_unlabel": [0.2, 0.8]}))
    meta = _data(tmp_path / "meta")
    m = json.loads((meta / "meta.json").read_text())
    (meta / "meta.json").write_text(json.dumps({**m, "n": {"test": 3}}))
    assert len({base, data_hash(split), data_hash(weak), data_hash(meta)}) == 4
