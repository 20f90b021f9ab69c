"""The report's per-subset section (imported tasks): held-out test accuracy and PGR per `subset`, as the
reference reports them (in- vs out-of-distribution), after the fixed weak and ceiling accuracies per subset.

Its own block, hooked into the report in two places: `collect.collect` (`data["subsets"]`),
`sections.sections` (`subsets_markdown`, its own `subsets` section in report.md and report.html).
Everything comes from admin rows of the server (`details["subsets"]` of each verification, the task's
`subset_baselines`); nothing here scores anything.
"""

from __future__ import annotations

from aarlab.client import AarClient, AarClientError


def subset_section(board: list[dict], task_row: dict | None) -> dict | None:
    """{"names", "fixed": {subset: {"weak_acc", "strong_acc"}}, "rows": [{"name", "agent", "kind",
    "status", "subsets": {subset: {"accuracy", "pgr", "n", "runs"}}}]}, or None without subsets."""
    fixed = (task_row or {}).get("subset_baselines") or {}
    rows = []
    for r in board:
        subs = (r.get("details") or {}).get("subsets")
        if not subs:
            continue
        kind = r.get("kind", "claim")
        rows.append({
            "name": r.get("title") if kind == "claim" else r.get("baseline"),
            "agent": r.get("agent") if kind == "claim" else "baseline",
            "kind": kind,
            "status": r.get("status"),
            "subsets": subs,
        })
    names = sorted(set(fixed) | {n for r in rows for n in r["subsets"]})
    if not names:
        return None
    return {"names": names, "fixed": fixed, "rows": rows}


def collect_subsets(client: AarClient, task: str) -> dict | None:
    try:
        task_row = client.task(task)
    except AarClientError:
        task_row = None
    return subset_section(client.verified_leaderboard(task), task_row)


FIXED_ROWS = (("weak supervisor (main test)", "weak_acc"), ("strong ceiling (main test)", "strong_acc"))


def _f(x: object) -> str:
    return f"{x:.3f}" if isinstance(x, int | float) else "–"


def subsets_markdown(data: dict) -> list[str]:
    sec = data.get("subsets")
    if not sec:
        return []
    names = sec["names"]
    head = ["result", "by", "status"] + [f"{n or '(none)'} {k}" for n in names for k in ("acc", "PGR", "n")]
    lines = ["", "## Test metrics by subset", "",
             "Fixed baselines on the main test split; results on the held-out draw "
             "(mean over held-out runs).",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    fixed = sec["fixed"]
    for label, key in FIXED_ROWS:
        cells = [label, "fixed", "–"]
        cells += [c for n in names for c in (_f((fixed.get(n) or {}).get(key)), "–", "–")]
        lines.append("| " + " | ".join(cells) + " |")
    for r in sec["rows"]:
        cells = [str(r["name"]).replace("|", "\\|"), str(r["agent"]), str(r["status"])]
        for n in names:
            s = r["subsets"].get(n) or {}
            cells += [_f(s.get("accuracy")), _f(s.get("pgr")), str(s.get("n", "–"))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
