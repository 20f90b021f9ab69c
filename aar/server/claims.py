"""The verified leaderboard and the verified baselines, built from the server's verification rows.

Claims: result findings, one row per distinct snapshot (identical snapshot ids are one claim). A claim
is credited to the earliest result by the agent that first uploaded its snapshot, else to the earliest
result citing it; the other findings are listed in `finding_ids`. Verified rows (claims and baselines
together) are ranked by verified PGR; screened, flagged, failed and pending rows follow, unranked.
Agents get the headline figures rounded to 2 decimals and no per-run detail.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from aar.server.models import Agent, Finding, Snapshot, Submission, Verification
from aar.server.public_figures import round_figure
from aar.server.routes.common import iso

ORDER = {"verified": 0, "screened": 1, "flagged": 2, "failed": 3, "pending": 4}
FIGURES = ("verified_pgr", "verified_pgr_se", "ablation_pgr", "blank_strong_pgr")
ADMIN_ONLY = ("verified_accuracy", "reproduce_agreement", "blank_strong_accuracy", "private_pgr", "details")


def _figures(v: Verification | None) -> dict:
    if v is None:
        return {
            "status": "pending",
            "verification_id": None,
            "generalization": {},
            "flags": [],
            "labels": [],
            **dict.fromkeys(FIGURES),
            **dict.fromkeys(ADMIN_ONLY[:3]),
        }
    return {
        "status": v.status,
        "verification_id": v.id,
        "verified_pgr": v.verified_pgr,
        "verified_pgr_se": v.verified_pgr_se,
        "verified_accuracy": v.verified_accuracy,
        "reproduce_agreement": v.reproduce_agreement,
        "ablation_pgr": v.ablation_pgr,
        "blank_strong_pgr": v.blank_strong_pgr,
        "blank_strong_accuracy": v.blank_strong_accuracy,
        "generalization": v.generalization or {},
        "flags": v.flags or [],
        "labels": v.labels or [],
        "screened": v.screened,
        "closed_at": iso(v.created_at),
    }


def _agent_view(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ADMIN_ONLY}
    for k in FIGURES:
        out[k] = round_figure(out.get(k))
    out["generalization"] = {t: round_figure(p) for t, p in (row.get("generalization") or {}).items()}
    return out


def _rank(rows: list[dict]) -> list[dict]:
    rows.sort(
        key=lambda r: (
            ORDER.get(r["status"], 9),
            r["verified_pgr"] is None,
            -(r["verified_pgr"] or 0.0),
            r.get("finding_id") or 0,
        )
    )
    rank = 0
    for r in rows:
        if r["status"] == "verified" and r["verified_pgr"] is not None:
            rank += 1
            r["rank"] = rank
        else:
            r["rank"] = None
    return rows


def baseline_rows(s: Session, task: str | None) -> list[dict]:
    q = select(Verification).where(Verification.baseline.is_not(None))
    if task is not None:
        q = q.where(Verification.task == task)
    rows = []
    for v in s.scalars(q.order_by(Verification.id)).all():
        rows.append(
            {
                "kind": "baseline",
                "baseline": v.baseline,
                "task": v.task,
                "agent": None,
                "agent_id": None,
                "finding_id": None,
                "finding_ids": [],
                "title": v.baseline,
                "snapshot_id": None,
                "submission_id": None,
                "public_pgr": None,
                "private_pgr": None,
                "created_at": iso(v.created_at),
                **_figures(v),
                "details": v.details or {},
                "merged": {},
            }
        )
    return rows


def claim_rows(s: Session, task: str | None) -> list[dict]:
    q = (
        select(Finding, Agent.name, Submission.task, Submission.pgr, Submission.private_pgr)
        .join(Agent, Agent.id == Finding.agent_id)
        .outerjoin(Submission, Submission.id == Finding.submission_id)
        .where(Finding.type == "result")
        .order_by(Finding.id)
    )
    found = s.execute(q).all()
    verif = {
        v.finding_id: v for v in s.scalars(select(Verification).where(Verification.finding_id.is_not(None)))
    }
    uploader = dict(s.execute(select(Snapshot.id, Snapshot.agent_id)).all())
    groups: dict[str, list] = {}
    for rec in found:
        f, sub_task = rec[0], rec[2]
        t = f.task or sub_task
        if task is not None and t != task:
            continue
        groups.setdefault(f.snapshot_id or f"finding-{f.id}", []).append((rec, t))
    rows = []
    for sid, members in groups.items():
        first_uploader = uploader.get(sid)
        own = [m for m in members if m[0][0].agent_id == first_uploader]
        (f, name, _, public_pgr, private_pgr), t = (own or members)[0]
        v = verif.get(f.id)
        rows.append(
            {
                "kind": "claim",
                "baseline": None,
                "task": t,
                "agent": name,
                "agent_id": f.agent_id,
                "finding_id": f.id,
                "finding_ids": [m[0][0].id for m in members],
                "title": f.title,
                "snapshot_id": f.snapshot_id,
                "submission_id": f.submission_id,
                "public_pgr": public_pgr,
                "private_pgr": private_pgr,
                "created_at": iso(f.created_at),
                **_figures(v),
                "details": (v.details or {}) if v is not None else {},
                "merged": {
                    m[0][0].id: (verif[m[0][0].id].status if m[0][0].id in verif else "pending")
                    for m in members
                    if m[0][0].id != f.id
                },
            }
        )
    return rows


def verified_leaderboard(s: Session, task: str | None, admin: bool) -> list[dict]:
    rows = _rank(claim_rows(s, task) + baseline_rows(s, task))
    return rows if admin else [_agent_view(r) for r in rows]


def verified_baselines(s: Session, task: str | None, admin: bool) -> list[dict]:
    rows = _rank(baseline_rows(s, task))
    return rows if admin else [_agent_view(r) for r in rows]
