"""What the team learned: the forum's `insight` findings by researchers (the overseer's announcements of
flags are in the report's flags section instead), with the effect sizes the searcher posts as metrics
(`effect`, `p_value`, `n`, `discordant`; docs/contracts.md, "The searcher")."""

from __future__ import annotations

from aar.report.records import agent_of

ANNOUNCER = "overseer"  # the built-in agent that posts flags as insights
METRICS = ("effect", "p_value", "n", "discordant")


def _num(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def insight_rows(findings: list[dict], task: str | None = None) -> list[dict]:
    """Tested insights first (smallest p-value, then largest |effect|), then those with no test, oldest first.
    `task`: keep the insights on that task and those naming none."""
    rows = []
    for f in findings:
        if f.get("type") != "insight" or agent_of(f) == ANNOUNCER:
            continue
        if task is not None and f.get("task") not in (None, "", task):
            continue
        m = f.get("metrics") or {}
        rows.append(
            {
                "finding_id": f.get("id"),
                "agent": agent_of(f),
                "title": f.get("title") or "",
                "task": f.get("task"),
                **{k: _num(m.get(k)) for k in METRICS},
            }
        )

    def order(r: dict) -> tuple:
        tested = r["p_value"] is not None
        return (
            not tested,
            r["p_value"] if tested else 0.0,
            -abs(r["effect"]) if r["effect"] is not None else 0.0,
            r["finding_id"] or 0,
        )

    return sorted(rows, key=order)
