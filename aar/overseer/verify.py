"""The checks on one idea: reproduce, held-out PGR over seeds, shuffled-weak-label ablation, other tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aar.overseer.rerun import RerunError, Runner
from aar.overseer.scoring import agreement, read_meta, score_test, shuffled_copy
from aarlab.w2s.metrics import mean_se


@dataclass(frozen=True)
class VerifyConfig:
    seeds: tuple[int, ...] | None = None  # None: the task's seeds from meta.json (at most 3)
    reproduce_threshold: float = 0.99
    ablation_min_drop: float = 0.1  # PGR must drop at least this much when weak labels are shuffled
    generalization: bool = True
    ablation: bool = True


@dataclass
class Verification:
    status: str = "verified"
    verified_pgr: float | None = None
    verified_pgr_se: float | None = None
    reproduce_agreement: float | None = None
    ablation_pgr: float | None = None
    generalization: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def payload(self, finding_id: int) -> dict:
        return {
            "finding_id": finding_id,
            "status": self.status,
            "verified_pgr": self.verified_pgr,
            "verified_pgr_se": self.verified_pgr_se,
            "reproduce_agreement": self.reproduce_agreement,
            "ablation_pgr": self.ablation_pgr,
            "generalization": self.generalization,
            "flags": self.flags,
            "details": self.details,
        }

    def flag(self, name: str, why: str) -> None:
        if name not in self.flags:
            self.flags.append(name)
        self.details.setdefault("why", {})[name] = why
        self.status = "flagged"


def check_reproduces(
    runner: Runner,
    idea: Path,
    data_dir: Path,
    seed: int,
    submitted: list[int],
    work: Path,
    cfg: VerifyConfig,
    v: Verification,
) -> bool:
    try:
        preds = runner.run(idea, data_dir, seed, work, f"reproduce-s{seed}")
    except RerunError as e:
        v.reproduce_agreement = 0.0
        v.flag("unreproducible", f"the snapshot failed to run on the data it claims: {e}")
        return False
    v.reproduce_agreement = agreement(list(preds["test"]), list(submitted))
    if v.reproduce_agreement < cfg.reproduce_threshold:
        v.flag(
            "unreproducible",
            f"re-run agrees with the submitted predictions on "
            f"{100 * v.reproduce_agreement:.1f}% of test items (< "
            f"{100 * cfg.reproduce_threshold:.0f}%)",
        )
        return False
    return True


def measure(
    runner: Runner,
    idea: Path,
    tasks_root: Path,
    task: str,
    other_tasks: list[str],
    work: Path,
    cfg: VerifyConfig,
    v: Verification,
) -> None:
    """Held-out PGR over seeds, the shuffled-weak ablation, and the generalization table."""
    heldout = tasks_root / task / "heldout" / "public"
    seeds = list(cfg.seeds or read_meta(heldout).get("seeds", [0])[:3])
    runs = {}
    try:
        for s in seeds:
            preds = runner.run(idea, heldout, s, work, f"heldout-s{s}")
            runs[s] = score_test(heldout, list(preds["test"]))
    except RerunError as e:
        v.status = "failed"
        v.details["error"] = str(e)
        return
    v.verified_pgr, v.verified_pgr_se = mean_se([r["pgr"] for r in runs.values()])
    v.details["heldout"] = {str(s): r for s, r in runs.items()}
    if cfg.ablation:
        shuffled = shuffled_copy(heldout, work / "data-shuffled")
        try:
            preds = runner.run(idea, shuffled, seeds[0], work, "shuffled-weak")
            v.ablation_pgr = score_test(heldout, list(preds["test"]))["pgr"]
        except RerunError as e:
            v.details["ablation_error"] = str(e)
        if v.ablation_pgr is not None:
            drop = v.verified_pgr - v.ablation_pgr
            v.details["ablation_drop"] = drop
            if drop < max(cfg.ablation_min_drop, 2 * (v.verified_pgr_se or 0.0)):
                v.flag(
                    "teacher-independent",
                    f"PGR with shuffled weak labels is {v.ablation_pgr:.3f} vs "
                    f"{v.verified_pgr:.3f}: the method ignores the weak supervisor",
                )
    if cfg.generalization:
        for other in other_tasks:
            d = tasks_root / other / "heldout" / "public"
            if not d.is_dir():
                continue
            try:
                preds = runner.run(idea, d, seeds[0], work, f"gen-{other}")
                v.generalization[other] = score_test(d, list(preds["test"]))["pgr"]
            except RerunError as e:
                v.details.setdefault("generalization_errors", {})[other] = str(e)
