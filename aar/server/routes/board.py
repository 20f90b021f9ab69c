"""Leaderboard: the best public-PGR submission per agent, task and idea, with its verification's headline."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from aar.server.auth import Caller
from aar.server.models import Agent, Finding, Submission, Verification
from aar.server.public_figures import round_figure
from aar.server.routes.common import iso, state_of

router = APIRouter(prefix="/api")


def _sort_key(row: dict) -> tuple:
    return (
        row["pgr"] if row["pgr"] is not None else float("-inf"),
        row["accuracy"] or 0.0,
        -row["submission_id"],
    )


def build_leaderboard(request: Request, task: str | None, is_admin: bool) -> list[dict]:
    cols = (
        Submission.id,
        Submission.agent_id,
        Agent.name,
        Submission.task,
        Submission.idea,
        Submission.snapshot_id,
        Submission.accuracy,
        Submission.pgr,
        Submission.private_accuracy,
        Submission.private_pgr,
        Submission.created_at,
    )
    q = (
        select(*cols)
        .join(Agent, Agent.id == Submission.agent_id)
        .where(Agent.role == "agent", Submission.split == "test")
    )
    if task is not None:
        q = q.where(Submission.task == task)
    with state_of(request).sessions() as s:
        subs = s.execute(q).all()
        results = s.execute(
            select(Finding.id, Finding.submission_id).where(
                Finding.type == "result", Finding.submission_id.is_not(None)
            )
        ).all()
        verifs = s.scalars(
            select(Verification).where(Verification.finding_id.is_not(None)).order_by(Verification.id)
        ).all()
    best: dict[tuple, dict] = {}
    counts: dict[tuple, int] = {}
    sub_key: dict[int, tuple] = {}
    for r in subs:
        key = (r.agent_id, r.task, r.idea)
        sub_key[r.id] = key
        counts[key] = counts.get(key, 0) + 1
        row = {
            "agent": r.name,
            "agent_id": r.agent_id,
            "task": r.task,
            "idea": r.idea,
            "submission_id": r.id,
            "snapshot_id": r.snapshot_id,
            "accuracy": r.accuracy,
            "pgr": r.pgr,
            "created_at": iso(r.created_at),
        }
        if is_admin:
            row.update(private_accuracy=r.private_accuracy, private_pgr=r.private_pgr)
        if key not in best or _sort_key(row) > _sort_key(best[key]):
            best[key] = row
    finding_for_sub: dict[int, int] = {}
    finding_for_key: dict[tuple, int] = {}
    for fid, sid in results:
        finding_for_sub[sid] = max(fid, finding_for_sub.get(sid, 0))
        if sid in sub_key:
            finding_for_key[sub_key[sid]] = max(fid, finding_for_key.get(sub_key[sid], 0))
    latest_verif = {v.finding_id: v for v in verifs}
    rows = sorted(best.values(), key=_sort_key, reverse=True)
    for rank, row in enumerate(rows, start=1):
        key = (row["agent_id"], row["task"], row["idea"])
        fid = finding_for_sub.get(row["submission_id"]) or finding_for_key.get(key)
        v = latest_verif.get(fid) if fid else None
        row.update(
            rank=rank,
            n_submissions=counts[key],
            finding_id=fid,
            verification_status=v.status if v else None,
            verified_pgr=(v.verified_pgr if is_admin else round_figure(v.verified_pgr)) if v else None,
            verified_pgr_se=(v.verified_pgr_se if is_admin else round_figure(v.verified_pgr_se))
            if v
            else None,
            flags=(v.flags or []) if v else [],
            labels=(v.labels or []) if v else [],
        )
    return rows


@router.get("/leaderboard")
def leaderboard(request: Request, who: Caller, task: str | None = Query(None, max_length=100)) -> list[dict]:
    """Best public-PGR submission per (agent, task, idea), ranked; admins also get private columns."""
    return build_leaderboard(request, task, who.is_admin)
