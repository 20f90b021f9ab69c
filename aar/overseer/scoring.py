"""Score test predictions of a data dir against its private labels, with the task's fixed baselines."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from aar.tasks.grade import accuracy, pgr
from aar.tasks.private import labels_for


def read_meta(data_dir: Path) -> dict:
    return json.loads((Path(data_dir) / "meta.json").read_text())


def score_test(data_dir: Path, test_preds: list[int], mode: str | None = None) -> dict:
    """Accuracy on the whole test split (the overseer sees all of it) and PGR against meta baselines."""
    meta = read_meta(data_dir)
    labels = labels_for(data_dir)["test"]
    acc = accuracy(test_preds, labels)
    base = meta["baselines"][mode or meta.get("reference_mode", "probe")]
    return {"accuracy": acc, "pgr": pgr(acc, base["weak_acc"], base["strong_acc"])}


def agreement(a: list[int], b: list[int]) -> float:
    if len(a) != len(b) or not a:
        return 0.0
    return sum(int(x) == int(y) for x, y in zip(a, b, strict=True)) / len(a)


def shuffled_copy(data_dir: Path, dest: Path, seed: int = 12345) -> Path:
    """A copy of a public data dir whose weak labels are permuted across train_unlabel items.

    The marginal label distribution is kept; the link between an item and its weak label is destroyed.
    Private labels are not copied (scoring uses the source dir).
    """
    data_dir, dest = Path(data_dir), Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(data_dir, dest)
    for path in sorted((dest / "weak").glob("seed*.json")):
        doc = json.loads(path.read_text())
        probs = list(doc["train_unlabel"])
        random.Random(f"{seed}/{path.name}").shuffle(probs)
        doc["train_unlabel"] = probs
        doc["shuffled"] = True
        path.write_text(json.dumps(doc))
    return dest
