"""Turn raw run records (findings, submissions, verifications, baselines, cost) into the report dict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def to_seconds(t: object) -> float:
    if isinstance(t, int | float):
        return float(t)
    if isinstance(t, str):
        s = t.replace("Z", "+00:00")
        d = dt.datetime.fromisoformat(s)
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.UTC)
        return d.timestamp()
    raise ValueError(f"not a time: {t!r}")


def agent_of(rec: dict) -> str:
    return str(rec.get("agent") or rec.get("agent_name") or rec.get("agent_id") or "?")


def pgr_over_time(submissions: Iterable[dict], task: str, start: float | None = None) -> dict:
    """Best public PGR so far, per agent and for the team, against minutes since the run started."""
    subs = sorted(
        (s for s in submissions if s.get("task") == task and s.get("pgr") is not None),
        key=lambda s: to_seconds(s["created_at"]),
    )
    if not subs:
        return {"agents": {}, "team": []}
    t0 = start if start is not None else to_seconds(subs[0]["created_at"])
    agents: dict[str, list[list[float]]] = {}
    best: dict[str, float] = {}
    team: list[list[float]] = []
    team_best = float("-inf")
    for s in subs:
        a, p, m = agent_of(s), float(s["pgr"]), (to_seconds(s["created_at"]) - t0) / 60.0
        if p > best.get(a, float("-inf")):
            best[a] = p
            agents.setdefault(a, []).append([round(m, 3), p])
        if p > team_best:
            team_best = p
            team.append([round(m, 3), p])
    end = (to_seconds(subs[-1]["created_at"]) - t0) / 60.0
    for a, pts in agents.items():
        pts.append([round(end, 3), best[a]])
    team.append([round(end, 3), team_best])
    return {"agents": agents, "team": team}


def leaderboard_rows(
    findings: list[dict], verifications: dict[int, dict], submissions: dict[int, dict], task: str
) -> list[dict]:
    rows = []
    for f in findings:
        if f.get("type") != "result" or (f.get("task") and f.get("task") != task):
            continue
        v = verifications.get(int(f["id"]), {})
        sub = submissions.get(int(f["submission_id"])) if f.get("submission_id") is not None else None
        rows.append(
            {
                "finding_id": f["id"],
                "agent": agent_of(f),
                "title": f.get("title", ""),
                "task": f.get("task") or task,
                "submission_id": f.get("submission_id"),
                "snapshot_id": f.get("snapshot_id"),
                "public_pgr": (sub or {}).get("pgr"),
                "private_pgr": (sub or {}).get("private_pgr"),
                "status": v.get("status", "pending"),
                "verified_pgr": v.get("verified_pgr"),
                "verified_pgr_se": v.get("verified_pgr_se"),
                "reproduce_agreement": v.get("reproduce_agreement"),
                "ablation_pgr": v.get("ablation_pgr"),
                "generalization": v.get("generalization") or {},
                "flags": list(v.get("flags") or []),
            }
        )
    ranked = sorted(
        (r for r in rows if r["status"] == "verified" and not r["flags"] and r["verified_pgr"] is not None),
        key=lambda r: -r["verified_pgr"],
    )
    for i, r in enumerate(ranked, 1):
        r["rank"] = i
    rest = sorted(
        (r for r in rows if "rank" not in r),
        key=lambda r: (r["verified_pgr"] is None, -(r["verified_pgr"] or 0.0)),
    )
    for r in rest:
        r["rank"] = None
    return ranked + rest


def build_report(
    *,
    run_dir: str,
    task: str,
    findings: list[dict],
    submissions: list[dict],
    verifications: list[dict],
    baselines: list[dict],
    cost: dict,
    extra_flags: list[dict] | None = None,
    start: float | None = None,
    not_methods: set[str] | None = None,
) -> dict:
    vmap = {int(v["finding_id"]): v for v in verifications}
    smap = {
        int(s.get("submission_id", s.get("id"))): s
        for s in submissions
        if s.get("submission_id", s.get("id")) is not None
    }
    board = leaderboard_rows(findings, vmap, smap, task)
    flags = [
        {"agent": r["agent"], "flag": fl, "finding_id": r["finding_id"], "detail": r["title"]}
        for r in board
        for fl in r["flags"]
    ]
    flags += extra_flags or []
    base = sorted(
        (b for b in baselines if b.get("verified_pgr") is not None), key=lambda b: -b["verified_pgr"]
    )
    methods = [b for b in base if b["name"] not in (not_methods or set())]
    best = next((r for r in board if r["rank"] == 1), None)
    data: dict = {
        "run_dir": run_dir,
        "main_task": task,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "leaderboard": board,
        "baselines": base,
        "best_verified": best,
        "best_baseline": base[0] if base else None,
        "margin": None,
        "gap_closed": None,
        "pgr_over_time": pgr_over_time(submissions, task, start),
        "flags": flags,
        "cost": cost,
    }
    if best and methods:
        b = methods[0]["verified_pgr"]
        data["margin"] = best["verified_pgr"] - b
        data["gap_closed"] = (best["verified_pgr"] - b) / (1.0 - b) if b < 1.0 else 0.0
    return data
