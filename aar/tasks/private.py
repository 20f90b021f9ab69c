"""The only reader of `private/` task files (labels, public-half mask).

Trusted code only: the scoring server (it loads every draw of every task) and offline preparation
(`aar w2s prepare` / `aar w2s baselines`). Nothing that runs in a sandbox can import it: the
sandbox mounts `aarlab` alone.
"""

from __future__ import annotations

from pathlib import Path

from aar.paths import tasks_dir
from aarlab.w2s.jsonl import read_json

CEILING_PREDICTIONS = "ceiling_predictions.json"  # {mode: {seed: [0/1 ...]}} on the draw's test split
WEAK_PREDICTIONS = "weak_predictions.json"  # {seed: [0/1 ...]}: the weak supervisor on the draw's test split
ITEM_META = "item_meta.json"  # imported tasks: {split: [{"subset": ..., "difficulty": ...}, ...]}
SUBSET_BASELINES = "subset_baselines.json"  # {mode: {subset: {"weak_acc", "strong_acc", "n"}}} (main test)


def private_dir(data_dir: Path) -> Path:
    """The private dir next to a `<task>/<draw>/public` data dir."""
    data_dir = Path(data_dir).resolve()
    return data_dir.parent / "private"


def labels_for(data_dir: Path) -> dict[str, list[int]]:
    """{"train_unlabel": [...], "test": [...]} for the draw whose public dir is `data_dir`."""
    return read_json(private_dir(data_dir) / "labels.json")


def public_mask_for(data_dir: Path) -> list[bool]:
    return read_json(private_dir(data_dir) / "test_public_mask.json")


def load_labels(task: str, draw: str = "main", size: str = "full") -> dict[str, list[int]]:
    return labels_for(tasks_dir(size) / task / draw / "public")


def test_public_mask(task: str, draw: str = "main", size: str = "full") -> list[bool]:
    return public_mask_for(tasks_dir(size) / task / draw / "public")


def ceiling_predictions_for(data_dir: Path) -> dict[str, dict[str, list[int]]] | None:
    """The strong ceiling's test predictions on a draw per mode and seed (None: not computed)."""
    path = private_dir(data_dir) / CEILING_PREDICTIONS
    return read_json(path) if path.exists() else None


def has_ceiling_predictions(data_dir: Path, mode: str, seeds: tuple[int, ...]) -> bool:
    """The draw holds the strong ceiling's test predictions in `mode` for exactly `seeds`."""
    have = (ceiling_predictions_for(data_dir) or {}).get(mode, {})
    return sorted(have) == sorted(str(s) for s in seeds)


def weak_predictions_for(data_dir: Path) -> dict[str, list[int]] | None:
    """The weak supervisor's test predictions on a draw per seed (None: not computed)."""
    path = private_dir(data_dir) / WEAK_PREDICTIONS
    return read_json(path) if path.exists() else None


def item_meta_for(data_dir: Path) -> dict[str, list[dict]] | None:
    """Per-item private metadata of an imported draw (None: the task has none)."""
    path = private_dir(data_dir) / ITEM_META
    return read_json(path) if path.exists() else None


def subsets_for(data_dir: Path) -> list[str] | None:
    """The `subset` of every test item ("" where an item has none); None when no test item has one."""
    meta = (item_meta_for(data_dir) or {}).get("test")
    if not meta or not any("subset" in m for m in meta):
        return None
    return ["" if m.get("subset") is None else str(m["subset"]) for m in meta]


def subset_baselines_for(data_dir: Path) -> dict[str, dict[str, dict]] | None:
    """The fixed baselines per test subset, per mode (None: not computed / no subsets)."""
    path = private_dir(data_dir) / SUBSET_BASELINES
    return read_json(path) if path.exists() else None


def ceiling_config(data_dir: Path) -> dict:
    """Config for the strong_ceiling baseline: the true train_unlabel labels (trusted callers only)."""
    from aarlab.w2s.ceiling import TRUSTED_LABELS_KEY  # loads torch: not at import (the server imports us)

    return {TRUSTED_LABELS_KEY: labels_for(Path(data_dir))["train_unlabel"]}
