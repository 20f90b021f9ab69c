"""The checks on one idea: reproduce, held-out runs over seeds, shuffled-weak-label ablation, other tasks.

The overseer holds no labels: every run's test predictions go to the server (`POST /api/admin/rechecks`),
which scores them with the one grader; `POST /api/admin/verifications/close` then judges the subject by
the server's fixed rules (docs/contracts.md, "The grader and the verification record").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aar.overseer.api import ApiError, OverseerApi
from aar.overseer.rerun import RerunError, Runner
from aar.overseer.scoring import read_meta, shuffled_copy


@dataclass(frozen=True)
class VerifyConfig:
    seeds: tuple[int, ...] | None = None  # None: the task's seeds from meta.json (at most 3)
    generalization: bool = True
    ablation: bool = True


def record(
    api: OverseerApi,
    runner: Runner,
    subject: dict,
    kind: str,
    idea: Path,
    data_dir: Path,
    task: str,
    draw: str,
    seed: int,
    work: Path,
    label: str,
) -> dict:
    """Run the idea once and hand the server its predictions (or why it failed); the server's answer."""
    try:
        preds = runner.run(idea, data_dir, seed, work, label)
    except RerunError as e:
        return api.post_recheck(subject=subject, kind=kind, task=task, draw=draw, seed=seed, error=str(e))
    manifest = api.read_manifest(work / f"out-{label}" / "manifest.json")
    fields = dict(
        subject=subject, kind=kind, task=task, draw=draw, seed=seed, predictions=list(preds["test"])
    )
    try:
        return api.post_recheck(**fields, manifest=manifest)
    except ApiError as e:
        if e.status != 422 or manifest is None:
            raise
        return api.post_recheck(**fields)  # the idea's manifest was malformed: the run still counts


def check_reproduces(
    api: OverseerApi,
    runner: Runner,
    subject: dict,
    idea: Path,
    data_dir: Path,
    task: str,
    seed: int,
    work: Path,
) -> bool:
    """Re-run on the main draw with the submission's seed; True when it ran and agrees >= 99%."""
    r = record(
        api, runner, subject, "reproduce", idea, data_dir, task, "main", seed, work, f"reproduce-s{seed}"
    )
    return r.get("agreement") is not None and r["agreement"] >= 0.99


def measure(
    api: OverseerApi,
    runner: Runner,
    subject: dict,
    idea: Path,
    tasks_root: Path,
    task: str,
    other_tasks: list[str],
    work: Path,
    cfg: VerifyConfig,
) -> None:
    """Held-out runs over seeds, the shuffled-weak ablation, and the other tasks' held-out draws."""
    heldout = tasks_root / task / "heldout" / "public"
    seeds = list(cfg.seeds or read_meta(heldout).get("seeds", [0])[:3])
    ok = False
    for s in seeds:
        r = record(api, runner, subject, "heldout", idea, heldout, task, "heldout", s, work, f"heldout-s{s}")
        ok = ok or r.get("accuracy") is not None
        if not ok:
            return  # the idea does not run on held-out data: nothing more to measure
    if cfg.ablation:
        shuffled = shuffled_copy(heldout, work / "data-shuffled")
        record(
            api,
            runner,
            subject,
            "shuffled_weak",
            idea,
            shuffled,
            task,
            "heldout",
            seeds[0],
            work,
            "shuffled-weak",
        )
    if cfg.generalization:
        for other in other_tasks:
            d = tasks_root / other / "heldout" / "public"
            if d.is_dir():
                record(
                    api,
                    runner,
                    subject,
                    "generalization",
                    idea,
                    d,
                    other,
                    "heldout",
                    seeds[0],
                    work,
                    f"gen-{other}",
                )
