"""The evidence behind one verified subject, read from its server verification record (admin row: `runs`,
`details`, `note`): per-seed held-out PGR, the counterfactual runs, generalization runs and their cost.
Nothing here scores anything; every figure is the server's."""

from __future__ import annotations

KINDS = ("reproduce", "heldout", "shuffled_weak", "blank_strong", "generalization")


def _run(r: dict) -> dict:
    return {
        k: r.get(k) for k in ("task", "draw", "seed", "n", "accuracy", "pgr", "agreement", "error", "seconds")
    }


def evidence(v: dict | None, threads: int = 1) -> dict | None:
    """None without a record. `threads`: the threads each re-run was given (the run's `threads_per_job`),
    for CPU-seconds = wall seconds x threads; the server's run rows carry wall seconds only."""
    if not v:
        return None
    runs = [_run(r) | {"kind": r.get("kind")} for r in v.get("runs") or []]
    by: dict[str, list[dict]] = {k: [] for k in KINDS}
    for r in runs:
        by.setdefault(str(r["kind"]), []).append(r)
    for rs in by.values():
        rs.sort(key=lambda r: (str(r.get("task")), r.get("seed") or 0))
    gen: dict[str, list[dict]] = {}
    for r in by["generalization"]:
        gen.setdefault(str(r["task"]), []).append(r)
    timed = [r for r in runs if isinstance(r.get("seconds"), int | float)]
    wall = sum(float(r["seconds"]) for r in timed)
    by_kind: dict[str, float] = {}
    for r in timed:
        by_kind[str(r["kind"])] = by_kind.get(str(r["kind"]), 0.0) + float(r["seconds"])
    details = v.get("details") or {}
    return {
        "verification_id": v.get("id"),
        "status": v.get("status"),
        "task": v.get("task"),
        "heldout": by["heldout"],
        "verified_pgr": v.get("verified_pgr"),
        "verified_pgr_se": v.get("verified_pgr_se"),
        "verified_accuracy": v.get("verified_accuracy"),
        "reproduce": by["reproduce"],
        "reproduce_agreement": v.get("reproduce_agreement"),
        "shuffled_weak": by["shuffled_weak"],
        "ablation_pgr": v.get("ablation_pgr"),
        "ablation_drop": details.get("ablation_drop"),
        "blank_strong": by["blank_strong"],
        "blank_strong_pgr": v.get("blank_strong_pgr"),
        "blank_strong_accuracy": v.get("blank_strong_accuracy"),
        "generalization_runs": gen,
        "generalization": v.get("generalization") or {},
        "beyond_strong": details.get("beyond_strong"),
        "why": details.get("why") or {},
        "errors": details.get("errors") or [],
        "labels": v.get("labels") or [],
        "flags": v.get("flags") or [],
        "note": v.get("note"),
        "cost": {
            "runs": len(runs),
            "timed_runs": len(timed),
            "wall_seconds": wall,
            "cpu_seconds": wall * max(1, threads),
            "threads_per_run": max(1, threads),
            "wall_seconds_by_kind": by_kind,
        },
    }
