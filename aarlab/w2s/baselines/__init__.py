"""Baseline ideas, one folder each (`<name>/run.py`, plus `config.json` for recipes)."""

from __future__ import annotations

from pathlib import Path

BASELINES_DIR = Path(__file__).resolve().parent
BASELINES: tuple[str, ...] = (
    "weak", "vanilla_w2s", "vanilla_w2s_soft", "confident_only", "aux_confidence", "ue_zeroshot",
    "strong_ceiling",
)


def baseline_dir(name: str) -> Path:
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {BASELINES}")
    return BASELINES_DIR / name
