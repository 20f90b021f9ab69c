"""The testbed sizes: `full` (the real CPU testbed), `small` (the smallest size in the W2S regime, a few
minutes to build: real-run checks in tests, a quick demo whose PGRs mean something) and `tiny`
(seconds, for tests of the machinery: its PGRs are noise)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelSpec:
    layers: int
    d_model: int
    heads: int
    steps: int
    batch_size: int = 64
    lr: float = 3e-3
    pack: int = 1  # corpus lines packed into one training sequence


@dataclass(frozen=True)
class SizeSpec:
    n: dict[str, int]
    seeds: tuple[int, ...]
    corpus_lines: int
    weak: ModelSpec
    strong: ModelSpec
    world_people: int
    extra: dict[str, float] = field(default_factory=dict)
    weak_by_task: dict[str, ModelSpec] = field(default_factory=dict)  # per-task weak model, when it differs

    def model_spec(self, task: str, role: str) -> ModelSpec:
        if role == "weak":
            return self.weak_by_task.get(task, self.weak)
        return self.strong


SIZES: dict[str, SizeSpec] = {
    "tiny": SizeSpec(
        n={"train_label": 100, "train_unlabel": 300, "test": 200},
        seeds=(0, 1),
        corpus_lines=3000,
        weak=ModelSpec(layers=1, d_model=16, heads=2, steps=20, batch_size=32),
        strong=ModelSpec(layers=2, d_model=32, heads=4, steps=150, batch_size=32, lr=5e-3),
        world_people=60,
    ),
    # measured (probe, 2 seeds): weak 0.556 / 0.571 / 0.548, ceiling 0.755 / 0.794 / 0.927 on
    # math / code / world; tiny's ceilings are within 0.09 of weak (math 0.515 vs 0.500)
    "small": SizeSpec(
        n={"train_label": 400, "train_unlabel": 1500, "test": 1000},
        seeds=(0, 1),
        corpus_lines=40_000,
        weak=ModelSpec(layers=1, d_model=32, heads=2, steps=300, batch_size=32),
        strong=ModelSpec(layers=2, d_model=64, heads=4, steps=1600, batch_size=32, lr=4e-3),
        world_people=80,
    ),
    "full": SizeSpec(
        n={"train_label": 1500, "train_unlabel": 6000, "test": 2000},
        seeds=(0, 1, 2),
        corpus_lines=200_000,
        weak=ModelSpec(layers=1, d_model=64, heads=4, steps=500),
        strong=ModelSpec(layers=4, d_model=128, heads=4, steps=2000),
        world_people=300,
        # the 1-layer weak model is near chance on world (0.545) and the strong probe then fits its
        # errors exactly (vanilla PGR 0.01); a 2-layer one knows some facts (weak 0.65, PGR 0.50)
        weak_by_task={"world": ModelSpec(layers=2, d_model=64, heads=4, steps=600)},
    ),
}


def size_spec(size: str) -> SizeSpec:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {sorted(SIZES)}")
    return SIZES[size]
