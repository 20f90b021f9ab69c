"""Data-dir helpers of the overseer (it scores nothing: the server does, from the predictions it is sent)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path


def read_meta(data_dir: Path) -> dict:
    return json.loads((Path(data_dir) / "meta.json").read_text())


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
