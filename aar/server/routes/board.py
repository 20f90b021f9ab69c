"""Leaderboard (best submission per agent, task and idea) and the overseer's verification records."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from aar.server.auth import Admin, Caller
from aar.server.models import Agent, Finding, Submission, Verification
from aar.server.routes.common import iso, opt_float, opt_int, opt_str, read_json_object, state_of
from aar.server.state import utcnow

router = APIRouter(prefix="/api")

STATUSES = ("verified", "flagged", "failed")


def verification_row(v: Verification) -> dict:
    return {
        "id": v.id,
        "finding_id": v.finding_id,
        "status": v.status,
        "verified_pgr": v.verified_pgr,
        "verified_pgr_se": v.verified_pgr_se,
        "reproduce_agreement": v.reproduce_agreement,
        "ablation_pgr": v.ablation_pgr,
        "generalization": v.generalization,
        "flags": v.flags or [],
        "details": v.details or {},
        "created_at": iso(v.created_at),
    }


@router.post("/admin/verifications")
async def post_verification(request: Request, _: Admin) -> dict:
    obj = await read_json_object(request)
    finding_id = opt_int(obj, "finding_id")
    if finding_id is None:
        raise HTTPException(422, "'finding_id' is required")
    status = opt_str(obj, "status", 16, required=True)
    if status not in STATUSES:
        raise HTTPException(422, f"'status' must be one of {', '.join(STATUSES)}")
    nums = {
        k: opt_float(obj, k)
        for k in ("verified_pgr", "verified_pgr_se", "reproduce_agreement", "ablation_pgr")
    }
    gen = obj.get("generalization") or {}
    if not isinstance(gen, dict) or not all(isinstance(k, str) for k in gen):
        raise HTTPException(422, "'generalization' must be an object {task: pgr}")
    generalization = {k: opt_float(gen, k) for k in gen}
    flags = obj.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(f, str) and len(f) <= 1000 for f in flags):
        raise HTTPException(422, "'flags' must be a list of strings")
    details = obj.get("details") or {}
    if not isinstance(details, dict):
        raise HTTPException(422, "'details' must be an object")

    def write() -> dict:
        with state_of(request).sessions.begin() as s:
            if s.get(Finding, finding_id) is None:
                raise HTTPException(404, f"no finding {finding_id}")
            v = Verification(
                finding_id=finding_id,
                status=status,
                generalization=generalization,
                flags=flags,
                details=details,
                created_at=utcnow(),
                **nums,
            )
            s.add(v)
            s.flush()
            return verification_row(v)

    return await run_in_threadpool(write)


@router.get("/verifications")
def verifications(
    request: Request,
    _: Caller,
    finding_id: int | None = Query(None, ge=1, le=2**62),
    since: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict]:
    q = select(Verification).where(Verification.id > since)
    if finding_id is not None:
        q = q.where(Verification.finding_id == finding_id)
    with state_of(request).sessions() as s:
        return [verification_row(v) for v in s.scalars(q.order_by(Verification.id).limit(limit)).all()]


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
        verifs = s.scalars(select(Verification).order_by(Verification.id)).all()
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
            verified_pgr=v.verified_pgr if v else None,
            verified_pgr_se=v.verified_pgr_se if v else None,
            flags=(v.flags or []) if v else [],
        )
    return rows


@router.get("/leaderboard")
def leaderboard(request: Request, who: Caller, task: str | None = None) -> list[dict]:
    """Best public-PGR submission per (agent, task, idea), ranked; admins also get private columns."""
    return build_leaderboard(request, task, who.is_admin)
