"""Turn raw run records (findings, submissions, verifications, baselines, cost) into the report dict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from aar import methods
from aar.report.distinct import distinct_methods
from aar.report.generalization import generalization_matrix
from aar.report.insights import insight_rows
from aar.report.records import agent_of
from aar.report.winner import winner_section
from aar.times import to_seconds


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


def claim_rows(board: list[dict], deferred: set[int] | None = None) -> list[dict]:
    """The claims of the server's verified leaderboard (its order and judgments), numbered among claims.
    `deferred`: finding ids the overseer has checked on the main task and holds for the held-out tasks'
    build (its state file); such a claim, still pending on the server, is shown as `deferred`."""
    rows = []
    held = deferred or set()
    rank = 0
    for r in board:
        if r.get("kind", "claim") != "claim":
            continue
        ranked = r.get("status") == "verified" and r.get("verified_pgr") is not None
        rank += ranked
        rows.append(
            {
                "rank": rank if ranked else None,
                "finding_id": r.get("finding_id"),
                "finding_ids": r.get("finding_ids") or [r.get("finding_id")],
                "agent": agent_of(r),
                "title": r.get("title", ""),
                "task": r.get("task"),
                "submission_id": r.get("submission_id"),
                "snapshot_id": r.get("snapshot_id"),
                "public_pgr": r.get("public_pgr"),
                "private_pgr": r.get("private_pgr"),
                "status": _status(r, held),
                "verified_pgr": r.get("verified_pgr"),
                "verified_pgr_se": r.get("verified_pgr_se"),
                "reproduce_agreement": r.get("reproduce_agreement"),
                "ablation_pgr": r.get("ablation_pgr"),
                "blank_strong_pgr": r.get("blank_strong_pgr"),
                "generalization": r.get("generalization") or {},
                "flags": list(r.get("flags") or []),
                "labels": list(r.get("labels") or []),
                "why": (r.get("details") or {}).get("why") or {},
            }
        )
    return rows


def _status(row: dict, deferred: set[int]) -> str:
    status = row.get("status") or "pending"
    ids = row.get("finding_ids") or [row.get("finding_id")]
    return "deferred" if status == "pending" and any(i in deferred for i in ids) else status


def baseline_rows(baselines: list[dict]) -> list[dict]:
    """The server's verified baselines (same verification path), best first."""
    rows = [
        {
            "name": b.get("baseline") or b.get("name"),
            "status": b.get("status"),
            "verified_pgr": b.get("verified_pgr"),
            "verified_pgr_se": b.get("verified_pgr_se"),
            "ablation_pgr": b.get("ablation_pgr"),
            "blank_strong_pgr": b.get("blank_strong_pgr"),
            "generalization": b.get("generalization") or {},
            "labels": list(b.get("labels") or []),
        }
        for b in baselines
        if b.get("verified_pgr") is not None and b.get("status") in (None, "verified", "screened")
    ]
    return sorted(rows, key=lambda b: -b["verified_pgr"])


def uncounted_baselines(baselines: list[dict]) -> list[dict]:
    """The baselines `baseline_rows` leaves out (flagged, failed, pending), with the server's reasons."""
    counted = {b["name"] for b in baseline_rows(baselines)}
    return [
        {
            "name": b.get("baseline") or b.get("name"),
            "status": b.get("status"),
            "verified_pgr": b.get("verified_pgr"),
            "flags": list(b.get("flags") or []),
            "why": (b.get("details") or {}).get("why") or {},
        }
        for b in baselines
        if (b.get("baseline") or b.get("name")) not in counted
    ]


def build_report(
    *,
    run_dir: str,
    task: str,
    board: list[dict],
    baselines: list[dict],
    submissions: list[dict],
    cost: dict,
    agent_flags: list[dict] | None = None,
    start: float | None = None,
    not_methods: set[str] | None = None,
    findings: list[dict] | None = None,
    verifications: list[dict] | None = None,
    files: dict[str, methods.Files] | None = None,
    baseline_ideas: dict[str, methods.Files] | None = None,
    threads: int = 1,
    deferred: set[int] | None = None,
) -> dict:
    """`board`, `baselines`, `agent_flags`, `findings`, `verifications`: what the server returns
    (`GET /api/verified_leaderboard`, `GET /api/verified_baselines`, `GET /api/admin/probing`,
    `GET /api/findings`, `GET /api/verifications`, admin rows); `files`: snapshot id -> its files
    (`aar.methods.snapshot_files`); `baseline_ideas`: `aar.methods.baseline_files()`. Nothing here re-judges
    a result; `deferred`: see `claim_rows`."""
    claims = claim_rows(board, deferred)
    flags = [
        {
            "agent": r["agent"],
            "flag": fl,
            "finding_id": r["finding_id"],
            "detail": f"{r['title']}: {r['why'][fl]}" if fl in r["why"] else r["title"],
        }
        for r in claims
        for fl in r["flags"]
    ]
    flags += [
        {
            "agent": f["agent"],
            "flag": f.get("flag", "probing"),
            "finding_id": None,
            "detail": f"agent-level on {f.get('task')}: {', '.join(f.get('signatures') or [])}",
        }
        for f in agent_flags or []
    ]
    base = baseline_rows(baselines)
    plain = [b for b in base if b["name"] not in (not_methods or set())]
    best = next((r for r in claims if r["rank"] == 1), None)
    data: dict = {
        "run_dir": run_dir,
        "main_task": task,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "leaderboard": claims,
        "baselines": base,
        "best_verified": best,
        "best_baseline": plain[0] if plain else None,
        "baselines_not_counted": uncounted_baselines(baselines),
        "margin": None,
        "gap_closed": None,
        "pgr_over_time": pgr_over_time(submissions, task, start),
        "flags": flags,
        "cost": cost,
    }
    if best and plain:
        b = plain[0]["verified_pgr"]
        data["margin"] = best["verified_pgr"] - b
        data["gap_closed"] = (best["verified_pgr"] - b) / (1.0 - b) if b < 1.0 else 0.0
    data.update(
        findings_sections(
            task,
            claims,
            base,
            findings or [],
            verifications or [],
            files or {},
            baseline_ideas or {},
            threads,
        )
    )
    return data


def latest_verifications(verifications: list[dict]) -> tuple[dict[int, dict], dict[tuple, dict]]:
    """The newest admin verification row per finding id and per (baseline, task)."""
    by_finding: dict[int, dict] = {}
    by_baseline: dict[tuple, dict] = {}
    for v in sorted(verifications, key=lambda v: v.get("id") or 0):
        if v.get("finding_id") is not None:
            by_finding[int(v["finding_id"])] = v
        elif v.get("baseline"):
            by_baseline[(v["baseline"], v.get("task"))] = v
    return by_finding, by_baseline


def most_general(rows: list[dict]) -> dict | None:
    """The verified method whose worst PGR over its own task and every task it was re-run on is highest
    (only methods measured on the same, largest set of tasks compete)."""
    verified = [m for m in rows if m.get("rank") and m.get("verified_pgr") is not None]
    if not verified:
        return None
    width = max(len(m.get("generalization") or {}) for m in verified)
    if not width:
        return None

    def worst(m: dict) -> float:
        gen = [v for v in (m.get("generalization") or {}).values() if v is not None]
        return min([m["verified_pgr"], *gen]) if len(gen) == width else float("-inf")

    best = max(verified, key=worst)
    return {**best, "worst_pgr": worst(best)} if worst(best) > float("-inf") else None


def findings_sections(
    task: str,
    claims: list[dict],
    base: list[dict],
    findings: list[dict],
    verifications: list[dict],
    files: dict[str, methods.Files],
    baseline_ideas: dict[str, methods.Files],
    threads: int,
) -> dict:
    """What was found: one row per distinct method, the winner with its evidence, the screened-out claims,
    the team's insights, generalization (methods x tasks) and claim counts by status."""
    by_finding, by_baseline = latest_verifications(verifications)
    posters = {int(f["id"]): f for f in findings if f.get("id") is not None}
    for r in claims:  # a claim's own row is enough to credit it when the forum rows were not passed
        posters.setdefault(int(r["finding_id"]), {"agent": r["agent"], "title": r["title"]})
    notes = {fid: v.get("note") for fid, v in by_finding.items()}
    rows = distinct_methods(claims, files, posters, notes)
    for b in base:
        v = by_baseline.get((b["name"], task))
        b["note"] = v.get("note") if v else None
    top = next((m for m in rows if m["rank"] == 1), None)
    winner = None
    if top is not None:
        snap = files.get(top.get("snapshot_id") or "")
        winner = winner_section(
            top, snap, baseline_ideas, by_finding.get(int(top["figures_from"])), base, threads
        )
    statuses: dict[str, int] = {}
    for r in claims:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {
        "methods": rows,
        "winner": winner,
        "most_general": most_general(rows),
        "screened_out": [m for m in rows if m["status"] == "screened"],
        "insights": insight_rows(findings, task),
        "generalization_matrix": generalization_matrix(task, rows, base),
        "claim_counts": {"claims": len(claims), "methods": len(rows), "by_status": statuses},
    }
