"""Baseline ideas, one folder each (`<name>/run.py`, plus `config.json` for recipes).

The reference baselines (weak, vanilla, confident, aux-confidence, zero-shot, the ceiling) and one
plain idea per strong-structure family of `aarlab.w2s.methods`, each that family's method with its
library defaults (the bar a research team must clear beyond the plain library)."""

from __future__ import annotations

from pathlib import Path

BASELINES_DIR = Path(__file__).resolve().parent
REFERENCE_BASELINES: tuple[str, ...] = (
    "weak", "vanilla_w2s", "vanilla_w2s_soft", "confident_only", "aux_confidence", "ue_zeroshot",
)
PLAIN_METHODS: tuple[str, ...] = (
    "truth_direction", "ccs", "icm", "knn_smoothing", "noisy_channel", "capacity_control", "filter_relabel",
)
BASELINES: tuple[str, ...] = (*REFERENCE_BASELINES, *PLAIN_METHODS, "strong_ceiling")


def baseline_dir(name: str) -> Path:
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {BASELINES}")
    return BASELINES_DIR / name
