"""Generalization: methods x tasks, PGR on the main task's held-out draw and on each other task's, for the
verified (and screened) distinct methods and the verified baselines, from their verification records."""

from __future__ import annotations

MAX_METHODS = 12  # the best ones; the full list is in the methods table


def generalization_matrix(main_task: str, methods_rows: list[dict], baselines: list[dict]) -> dict:
    """{"tasks": [main, others...], "rows": [{"name", "kind", "status", "pgr": {task: PGR | None}}]}."""
    shown = [  # a claim screened out on its public PGR alone has no held-out run to show
        m for m in methods_rows
        if m.get("status") == "verified"
        or (m.get("status") == "screened" and m.get("verified_pgr") is not None)
    ]
    chosen = shown[:MAX_METHODS]
    others: set[str] = set()
    for r in chosen + baselines:
        others.update((r.get("generalization") or {}).keys())
    tasks = [main_task, *sorted(others - {main_task})]
    rows = [
        {
            "name": f"{m['title']} ({m['agent']})",
            "kind": "method",
            "status": m.get("status"),
            "pgr": {main_task: m.get("verified_pgr"), **(m.get("generalization") or {})},
        }
        for m in chosen
    ]
    rows += [
        {
            "name": f"baseline {b['name']}",
            "kind": "baseline",
            "status": b.get("status"),
            "pgr": {main_task: b.get("verified_pgr"), **(b.get("generalization") or {})},
        }
        for b in baselines
    ]
    return {"tasks": tasks, "rows": rows}
