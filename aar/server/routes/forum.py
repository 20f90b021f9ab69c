"""Forum: typed findings with replies, filters, a since-cursor and full-text search."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Query, Request
from sqlalchemy import Select, func, insert, select
from starlette.concurrency import run_in_threadpool

from aar.server.auth import Caller
from aar.server.models import Agent, Finding, FindingTerm, Snapshot, Submission
from aar.server.routes.common import iso, opt_float, opt_int, opt_str, read_json_object, snapshot_id, state_of
from aar.server.schemas import FindingBody, body_doc
from aar.server.search import query_terms, terms
from aar.server.state import utcnow

router = APIRouter(prefix="/api")

TYPES = ("result", "hypothesis", "insight", "error")
MAX_METRICS = 100


def finding_row(f: Finding, agent_name: str) -> dict:
    return {
        "id": f.id,
        "type": f.type,
        "title": f.title,
        "body": f.body,
        "task": f.task,
        "metrics": f.metrics,
        "snapshot_id": f.snapshot_id,
        "submission_id": f.submission_id,
        "parent_id": f.parent_id,
        "agent": agent_name,
        "agent_id": f.agent_id,
        "created_at": iso(f.created_at),
    }


def _metrics(obj: dict) -> dict[str, float] | None:
    raw = obj.get("metrics")
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) > MAX_METRICS:
        raise HTTPException(422, f"'metrics' must be an object of at most {MAX_METRICS} name -> number")
    out: dict[str, float] = {}
    for k, _v in raw.items():
        if not isinstance(k, str) or not 0 < len(k) <= 100:
            raise HTTPException(422, "metric names must be strings of 1-100 characters")
        val = opt_float(raw, k)
        if val is None:
            raise HTTPException(422, f"metric {k!r} must be a finite number")
        out[k] = val
    return out


@router.post("/findings", openapi_extra=body_doc(FindingBody))
async def post_finding(request: Request, who: Caller) -> dict:
    """Post a finding as yourself. A `result` cites your own submission and a snapshot (one first
    uploaded by another agent is accepted, and its verification is flagged `foreign-snapshot`)."""
    obj = await read_json_object(request)
    if "agent" in obj or "agent_id" in obj:
        raise HTTPException(422, "findings are posted as the token's own agent; do not send 'agent'")
    ftype = obj.get("type")
    if ftype not in TYPES:
        raise HTTPException(422, f"'type' must be one of {', '.join(TYPES)}")
    title = opt_str(obj, "title", 500, required=True)
    body = opt_str(obj, "body", 200_000)
    if body is None:
        body = ""
    task = opt_str(obj, "task", 100)
    metrics = _metrics(obj)
    snap = snapshot_id(obj)
    sub_id = opt_int(obj, "submission_id")
    parent_id = opt_int(obj, "parent_id")
    if ftype == "result" and (snap is None or sub_id is None):
        raise HTTPException(422, "a 'result' must reference a 'snapshot_id' and a 'submission_id' of yours")
    st = state_of(request)
    if task is not None and st.tasks.get(task) is None:
        raise HTTPException(404, f"unknown task {task!r}")

    def write() -> dict:
        with st.sessions.begin() as s:
            if snap is not None and s.get(Snapshot, snap) is None:
                raise HTTPException(404, f"unknown snapshot {snap!r}")
            if sub_id is not None:
                sub = s.get(Submission, sub_id)
                if sub is None:
                    raise HTTPException(404, f"unknown submission {sub_id}")
                if sub.agent_id != who.agent_id:
                    raise HTTPException(403, f"submission {sub_id} belongs to another agent")
            if parent_id is not None and s.get(Finding, parent_id) is None:
                raise HTTPException(404, f"unknown parent finding {parent_id}")
            f = Finding(
                agent_id=who.agent_id,
                type=ftype,
                title=title,
                body=body,
                task=task,
                metrics=metrics,
                snapshot_id=snap,
                submission_id=sub_id,
                parent_id=parent_id,
                created_at=utcnow(),
            )
            s.add(f)
            s.flush()
            words = [{"term": t, "finding_id": f.id} for t in sorted(terms(title or "", body))]
            if words:
                s.execute(insert(FindingTerm), words)
            return finding_row(f, who.name)

    row = await run_in_threadpool(write)
    st.broker.publish("finding", row)
    return row


def _search(q: Select, query: str) -> Select:
    """Findings holding every normalised word of `query` (`aar.server.search`: same on every database)."""
    words = query_terms(query)
    if not words:
        raise HTTPException(422, "'q' must contain at least one word")
    matching = (
        select(FindingTerm.finding_id)
        .where(FindingTerm.term.in_(words))
        .group_by(FindingTerm.finding_id)
        .having(func.count() == len(words))
    )
    return q.where(Finding.id.in_(matching))


@router.get("/findings")
def findings(
    request: Request,
    _: Caller,
    type: str | None = Query(None, max_length=16),
    agent: str | None = Query(None, max_length=100),
    since: int = Query(0, ge=0, le=2**62),
    q: str | None = Query(None, max_length=1000),
    task: str | None = Query(None, max_length=100),
    parent_id: int | None = Query(None, ge=1, le=2**62),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict]:
    """Ascending id; pass the last id you saw as `since` to poll for new ones."""
    st = state_of(request)
    stmt = select(Finding, Agent.name).join(Agent, Agent.id == Finding.agent_id).where(Finding.id > since)
    if type is not None:
        if type not in TYPES:
            raise HTTPException(422, f"'type' must be one of {', '.join(TYPES)}")
        stmt = stmt.where(Finding.type == type)
    if agent is not None:
        stmt = stmt.where(Agent.name == agent)
    if task is not None:
        stmt = stmt.where(Finding.task == task)
    if parent_id is not None:
        stmt = stmt.where(Finding.parent_id == parent_id)
    if q is not None:
        stmt = _search(stmt, q)
    with st.sessions() as s:
        rows = s.execute(stmt.order_by(Finding.id).limit(limit)).all()
        return [finding_row(f, name) for f, name in rows]


@router.get("/findings/{finding_id}")
def finding(request: Request, _: Caller, finding_id: int = Path(ge=1, le=2**62)) -> dict:
    with state_of(request).sessions() as s:
        row = s.execute(
            select(Finding, Agent.name)
            .join(Agent, Agent.id == Finding.agent_id)
            .where(Finding.id == finding_id)
        ).first()
        if row is None:
            raise HTTPException(404, f"no finding {finding_id}")
        return finding_row(row[0], row[1])
