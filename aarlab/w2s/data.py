"""Reading a public data dir (what an idea receives): meta, splits and weak artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aarlab.w2s.jsonl import read_json, read_jsonl


@dataclass
class DataDir:
    path: Path

    @property
    def meta(self) -> dict:
        return read_json(self.path / "meta.json")

    def texts(self, split: str) -> list[str]:
        return [r["text"] for r in read_jsonl(self.path / f"{split}.jsonl")]

    def train_labels(self) -> np.ndarray:
        """True labels of `train_label` (the only public labels)."""
        return np.array([r["label"] for r in read_jsonl(self.path / "train_label.jsonl")], dtype=np.int64)

    def weak_file(self, seed: int) -> Path:
        return self.path / "weak" / f"seed{seed}.json"

    def weak(self, seed: int) -> dict:
        """Weak artifacts of a seed: {"seed", "train_unlabel": [p(label=1)...], "weak_test_acc"}.

        Falls back to the artifacts of the first listed seed when `seed` has none (e.g. the overseer
        re-running with a fresh seed)."""
        path = self.weak_file(seed)
        if not path.exists():
            seeds = self.meta.get("seeds") or [0]
            path = self.weak_file(int(seeds[0]))
        return read_json(path)

    def weak_soft(self, seed: int) -> np.ndarray:
        return np.asarray(self.weak(seed)["train_unlabel"], dtype=np.float64)
