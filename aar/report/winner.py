"""The top of the report: the winning method (rank 1 among the distinct methods, i.e. the best verified
claim on the server's verified leaderboard) in words, its recipe, its code against the closest baseline
idea, and the evidence from its verification record."""

from __future__ import annotations

from aar import methods
from aar.report.evidence import evidence

MAX_DIFF_LINES = 400


def _clip(diff: str) -> tuple[str, int]:
    lines = diff.splitlines(keepends=True)
    if len(lines) <= MAX_DIFF_LINES:
        return diff, 0
    return "".join(lines[:MAX_DIFF_LINES]), len(lines) - MAX_DIFF_LINES


def winner_section(
    method: dict,
    files: methods.Files | None,
    baselines: dict[str, methods.Files],
    verification: dict | None,
    verified_baselines: list[dict],
    threads: int = 1,
) -> dict:
    """`method`: a `distinct.distinct_methods` row; `files`: its snapshot's files (None: unreadable);
    `baselines`: the baseline ideas' files (no ceilings); `verification`: the admin verification row its
    figures come from; `verified_baselines`: `assemble.baseline_rows`."""
    out: dict = {
        **method,
        "recipe": None,
        "files": sorted(files) if files else [],
        "closest_baseline": None,
        "closest_baseline_pgr": None,
        "comparison": None,
        "diff_lines_left_out": 0,
        "evidence": evidence(verification, threads),
    }
    if files is None:
        out["description"] = None
        return out
    out["recipe"] = methods.recipe_of(files)
    out["description"] = methods.describe(files, method.get("title") or "")
    near = methods.closest_baseline(files, baselines)
    if near is None:
        return out
    cmp = methods.comparison(files, baselines[near], f"baseline/{near}")
    cmp["diff"], out["diff_lines_left_out"] = _clip(cmp["diff"])
    out["closest_baseline"] = near
    out["comparison"] = cmp
    out["closest_baseline_description"] = methods.describe(baselines[near], near)
    row = next((b for b in verified_baselines if b["name"] == near), None)
    out["closest_baseline_pgr"] = row.get("verified_pgr") if row else None
    return out
