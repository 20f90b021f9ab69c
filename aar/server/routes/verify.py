"""The verification record: re-check runs (admin), closing a verification (admin), reading them,
the verified leaderboard and verified baselines, and the probing detector's flags (admin)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from aar.server.auth import Admin, Caller
from aar.server.claims import verified_baselines, verified_leaderboard
from aar.server.manifest import check_predictions, parse_manifest
from aar.server.models import Agent, AgentFlag, Recheck, Verification
from aar.server.routes.common import iso, opt_float, opt_str, read_json_object, state_of
from aar.server.schemas import CloseBody, RecheckBody, body_doc
from aar.server.scoring import PredictionError, agreement, pack, parse_predictions, unpack_array, whole_split
from aar.server.state import utcnow
from aar.server.tasks import DRAWS, HELDOUT, MAIN
from aar.server.verification import (
    KINDS,
    Subject,
    close,
    judgment,
    parse_subject,
    resolve_finding,
    run_row,
    verification_row,
)

router = APIRouter(prefix="/api")


def _check_kind(kind: str, subject: Subject, subject_task: str, task: str, draw: str) -> None:
    if kind == "reproduce":
        if subject.finding_id is None:
            raise HTTPException(
                422, "a 'reproduce' run needs a finding subject (a baseline has no submission)"
            )
        if draw != MAIN or task != subject_task:
            raise HTTPException(
                422, f"a 'reproduce' run is on the main draw of the result's task {subject_task!r}"
            )
    elif kind == "heldout":
        if draw != HELDOUT or task != subject_task:
            raise HTTPException(
                422, f"a 'heldout' run is on the heldout draw of the subject's task {subject_task!r}"
            )
    elif kind == "generalization":
        if task == subject_task:
            raise HTTPException(422, "a 'generalization' run is on another task than the subject's")
    elif task != subject_task:
        raise HTTPException(422, f"a {kind!r} run is on the subject's task {subject_task!r}")


@router.post("/admin/rechecks", openapi_extra=body_doc(RecheckBody))
async def post_recheck(request: Request, _: Admin) -> dict:
    """Record one re-check run of a subject; the server scores it on the whole test split of its draw."""
    obj = await read_json_object(request)
    st = state_of(request)
    subject = parse_subject(obj.get("subject"))
    kind = obj.get("kind")
    if kind not in KINDS:
        raise HTTPException(422, f"'kind' must be one of {', '.join(KINDS)}")
    task_name = opt_str(obj, "task", 100, required=True)
    draw_name = obj.get("draw")
    if draw_name not in DRAWS:
        raise HTTPException(422, f"'draw' must be one of {', '.join(DRAWS)}")
    seed = obj.get("seed", 0)
    if type(seed) is not int or not 0 <= seed < 2**31:
        raise HTTPException(422, "'seed' must be an integer in [0, 2^31)")
    error = opt_str(obj, "error", 20_000)
    seconds = opt_float(obj, "seconds")
    if seconds is not None and seconds < 0:
        raise HTTPException(422, "'seconds' must not be negative")
    manifest = parse_manifest(obj.get("manifest"))
    task = st.tasks.get(task_name)  # type: ignore[arg-type]
    if task is None:
        raise HTTPException(404, f"unknown task {task_name!r}")
    draw = task.draw(draw_name)
    if draw is None:
        raise HTTPException(
            422, f"task {task.name!r} has no {draw_name!r} draw: runs on it cannot be scored (imported task?)"
        )
    raw = obj.get("predictions")
    if (raw is None) == (error is None):
        raise HTTPException(
            422, "send either 'predictions' (the run's test predictions) or 'error' (why it failed)"
        )
    preds = None
    if raw is not None:
        try:
            preds = parse_predictions(raw, draw.n_test)
        except PredictionError as exc:
            raise HTTPException(422, str(exc)) from None
    if subject.baseline is not None and st.tasks.get(subject.task or "") is None:
        raise HTTPException(404, f"unknown task {subject.task!r}")

    def write() -> dict:
        with st.sessions.begin() as s:
            sub_preds = None
            if subject.finding_id is not None:
                fs = resolve_finding(s, subject.finding_id)
                subject_task = fs.task
                if fs.submission is not None and kind == "reproduce":
                    sub_preds = unpack_array(fs.submission.predictions_packed, fs.submission.n)
            else:
                subject_task = subject.task or ""
            _check_kind(kind, subject, subject_task, task.name, draw_name)
            row = Recheck(
                finding_id=subject.finding_id,
                baseline=subject.baseline,
                subject_task=subject_task,
                kind=kind,
                task=task.name,
                draw=draw_name,
                seed=seed,
                error=error,
                manifest=manifest,
                seconds=seconds,
                created_at=utcnow(),
            )
            out = {"accuracy": None, "pgr": None, "n": None, "agreement": None}
            if preds is not None:
                packed, digest = pack(preds)
                check_predictions(manifest, digest)
                g = whole_split(draw, "test", preds)
                row.n, row.accuracy, row.pgr = g.n, g.accuracy, g.pgr
                row.predictions_sha256, row.predictions_packed = digest, packed
                if sub_preds is not None:
                    row.agreement = agreement(preds, np.asarray(sub_preds))
                out = {"accuracy": g.accuracy, "pgr": g.pgr, "n": g.n, "agreement": row.agreement}
            s.add(row)
            s.flush()
            return {"recheck_id": row.id, **out}

    return await run_in_threadpool(write)


@router.get("/admin/rechecks")
def list_rechecks(
    request: Request,
    _: Admin,
    finding_id: int | None = Query(None, ge=1, le=2**62),
    baseline: str | None = Query(None, max_length=100),
    task: str | None = Query(None, max_length=100),
    since: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict]:
    """Recorded re-check runs (ascending id), by subject: `finding_id`, or `baseline` and `task`."""
    q = select(Recheck).where(Recheck.id > since)
    if finding_id is not None:
        q = q.where(Recheck.finding_id == finding_id)
    if baseline is not None:
        q = q.where(Recheck.baseline == baseline)
    if task is not None:
        q = q.where(Recheck.subject_task == task)
    with state_of(request).sessions() as s:
        return [
            {
                **run_row(r),
                "subject": {"finding_id": r.finding_id}
                if r.finding_id is not None
                else {"baseline": r.baseline, "task": r.subject_task},
            }
            for r in s.scalars(q.order_by(Recheck.id).limit(limit)).all()
        ]


@router.post("/admin/verifications/close", openapi_extra=body_doc(CloseBody))
async def close_verification(request: Request, _: Admin) -> dict:
    """Judge a subject from its recorded re-checks by the fixed rules; replaces its verification."""
    obj = await read_json_object(request)
    st = state_of(request)
    subject = parse_subject(obj.get("subject"))
    screened = obj.get("screened", False)
    if not isinstance(screened, bool):
        raise HTTPException(422, "'screened' must be true or false")
    note = opt_str(obj, "note", 10_000)
    dry_run = obj.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise HTTPException(422, "'dry_run' must be true or false")
    if st.probing is not None:
        await run_in_threadpool(st.probing.flush)  # every submission so far is judged first

    def write() -> tuple[dict, dict]:
        with st.sessions.begin() as s:
            v = (judgment if dry_run else close)(st, s, subject, screened, note)
            return verification_row(v, True), verification_row(v, False)

    admin_row, agent_row = await run_in_threadpool(write)
    if dry_run:  # the judgment the subject's re-checks so far would get: nothing stored, nothing announced
        return admin_row
    st.broker.publish("verification", admin_row, agent_view=agent_row)
    return admin_row


@router.get("/verifications")
def verifications(
    request: Request,
    who: Caller,
    finding_id: int | None = Query(None, ge=1, le=2**62),
    since: int = Query(0, ge=0, le=2**62),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict]:
    """One row per closed subject, ascending id. Agents get the status, a 2-decimal PGR, flags, labels."""
    q = select(Verification).where(Verification.id > since)
    if finding_id is not None:
        q = q.where(Verification.finding_id == finding_id)
    with state_of(request).sessions() as s:
        rows = s.scalars(q.order_by(Verification.id).limit(limit)).all()
        return [verification_row(v, who.is_admin) for v in rows]


@router.get("/verified_leaderboard")
def verified_leaderboard_route(
    request: Request, who: Caller, task: str | None = Query(None, max_length=100)
) -> list[dict]:
    """One row per distinct claim (same snapshot merged) and per verified baseline, verified ones ranked."""
    with state_of(request).sessions() as s:
        return verified_leaderboard(s, task, who.is_admin)


@router.get("/verified_baselines")
def verified_baselines_route(
    request: Request, who: Caller, task: str | None = Query(None, max_length=100)
) -> list[dict]:
    with state_of(request).sessions() as s:
        return verified_baselines(s, task, who.is_admin)


@router.get("/admin/probing")
async def probing(request: Request, _: Admin) -> list[dict]:
    """The probing detector's flags, after judging every submission stored so far."""
    st = state_of(request)
    if st.probing is not None:
        await run_in_threadpool(st.probing.flush)

    def read() -> list[dict]:
        with st.sessions() as s:
            rows = s.execute(
                select(AgentFlag, Agent.name)
                .join(Agent, Agent.id == AgentFlag.agent_id)
                .order_by(AgentFlag.id)
            ).all()
            return [
                {
                    "id": f.id,
                    "agent": name,
                    "agent_id": f.agent_id,
                    "task": f.task,
                    "flag": f.flag,
                    "signatures": (f.details or {}).get("signatures", []),
                    "details": f.details or {},
                    "created_at": iso(f.created_at),
                }
                for f, name in rows
            ]

    return await run_in_threadpool(read)
