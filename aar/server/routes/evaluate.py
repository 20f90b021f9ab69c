"""Scoring routes: evaluate (the hot path), submission lists, stored predictions for the overseer."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from aar.server.auth import Admin, Caller
from aar.server.manifest import check_predictions, parse_manifest
from aar.server.models import Agent, Submission
from aar.server.routes.common import iso, opt_str, read_json_object, snapshot_id, state_of
from aar.server.schemas import EvaluateBody, body_doc
from aar.server.scoring import PredictionError, agent_score, pack, parse_predictions, unpack, whole_split
from aar.server.state import utcnow

router = APIRouter(prefix="/api")

AGENT_SPLITS = ("test",)
ADMIN_SPLITS = ("test", "train_unlabel")


@router.post("/evaluate", openapi_extra=body_doc(EvaluateBody))
async def evaluate(request: Request, who: Caller) -> JSONResponse:
    """Score predictions on `test` of a task. Agents get the public half's accuracy and PGR (keyed
    noise, 2 decimals) and spend one evaluation of their per-run budget; the admin gets exact figures."""
    obj = await read_json_object(request)
    st = state_of(request)
    task_name = opt_str(obj, "task", 100, required=True)
    split = obj.get("split", "test")
    idea = opt_str(obj, "idea", 200)
    snap = snapshot_id(obj)
    manifest = parse_manifest(obj.get("manifest"))
    if not isinstance(split, str):
        raise HTTPException(422, "'split' must be a string")
    task = st.tasks.get(task_name)  # type: ignore[arg-type]
    if task is None:
        raise HTTPException(404, f"unknown task {task_name!r}")
    if split not in ADMIN_SPLITS or split not in task.labels:
        raise HTTPException(422, f"unknown split {split!r}; agents may only score 'test'")
    if split not in AGENT_SPLITS and not who.is_admin:
        raise HTTPException(
            403, f"split {split!r} cannot be scored by agents: only 'test' (public half) is scored"
        )
    try:
        preds = parse_predictions(obj.get("predictions"), int(task.labels[split].size))
    except PredictionError as exc:
        raise HTTPException(422, str(exc)) from None
    packed, digest = pack(preds)
    check_predictions(manifest, digest)
    if snap is not None and not st.blobs.exists(snap):
        raise HTTPException(404, f"unknown snapshot {snap!r}: upload it first")

    if split == "test":
        result = agent_score(task.main, preds, st.secret)
        shown_acc, shown_pgr = result.accuracy, result.pgr
        exact, prv_acc, prv_pgr = result.exact_accuracy, result.private_accuracy, result.private_pgr
        if who.is_admin:  # trusted: the exact figures
            shown_acc, shown_pgr = exact, task.main.base.pgr(exact)
    else:  # the admin, a whole split
        whole = whole_split(task.main, split, preds)
        shown_acc, shown_pgr, exact, prv_acc, prv_pgr = whole.accuracy, whole.pgr, whole.accuracy, None, None
    now = utcnow()
    budget = st.settings.budget
    key = (who.agent_id, task.name)
    used = 0
    if not who.is_admin:
        # Reserve a budget slot before the first await, so concurrent calls cannot overspend.
        with st.budget_lock:
            used = st.budget_used.get(key)
            if used is None:
                with st.engine.connect() as conn:
                    used = st.used(conn, *key)
            if used >= budget:
                raise HTTPException(
                    429,
                    f"evaluation budget exhausted for task {task.name!r}: {budget} per agent for this run",
                )
            st.budget_used[key] = used + 1
    row = {
        "agent_id": who.agent_id,
        "task": task.name,
        "split": split,
        "idea": idea,
        "snapshot_id": snap,
        "n": int(preds.size),
        "predictions_sha256": digest,
        "predictions_packed": packed,
        "accuracy": shown_acc,
        "pgr": shown_pgr,
        "exact_accuracy": exact,
        "private_accuracy": prv_acc,
        "private_pgr": prv_pgr,
        "manifest": manifest,
        "created_at": now,
    }
    try:
        sub_id = await st.writer.add(row)
    except Exception:  # not stored: give the slot back (a cancelled call may still commit, so keep it)
        if not who.is_admin:
            with st.budget_lock:
                st.budget_used[key] -= 1
        raise
    if not who.is_admin and split == "test" and st.probing is not None:
        st.probing.submit(who.agent_id, task.name, preds, prv_acc)
    remaining = None if who.is_admin else budget - used - 1
    public = {
        "submission_id": sub_id,
        "agent": who.name,
        "task": task.name,
        "split": split,
        "idea": idea,
        "snapshot_id": snap,
        "accuracy": shown_acc,
        "pgr": shown_pgr,
        "created_at": iso(now),
    }
    st.broker.publish(
        "submission",
        {**public, "private_accuracy": prv_acc, "private_pgr": prv_pgr},
        agent_view=public,
        owner=who.agent_id,
    )
    out = {"submission_id": sub_id, "accuracy": shown_acc, "pgr": shown_pgr, "remaining_budget": remaining}
    if who.is_admin:
        out.update(private_accuracy=prv_acc, private_pgr=prv_pgr)
    return JSONResponse(out)


def submission_row(sub: Submission, agent_name: str, private: bool) -> dict:
    row = {
        "submission_id": sub.id,
        "agent_id": sub.agent_id,
        "agent": agent_name,
        "task": sub.task,
        "split": sub.split,
        "idea": sub.idea,
        "snapshot_id": sub.snapshot_id,
        "n": sub.n,
        "predictions_sha256": sub.predictions_sha256,
        "accuracy": sub.accuracy,
        "pgr": sub.pgr,
        "manifest": sub.manifest,
        "created_at": iso(sub.created_at),
    }
    if private:
        row.update(
            private_accuracy=sub.private_accuracy,
            private_pgr=sub.private_pgr,
            exact_accuracy=sub.exact_accuracy,
        )
    return row


@router.get("/submissions")
def submissions(
    request: Request,
    who: Caller,
    task: str | None = Query(None, max_length=100),
    agent: str | None = Query(None, max_length=100),
    since: int = Query(0, ge=0, le=2**62),
    limit: int = Query(10_000, ge=1, le=10_000),
) -> list[dict]:
    """Agents see their own submissions (public scores); admins see all, with private scores."""
    q = (
        select(Submission, Agent.name)
        .join(Agent, Agent.id == Submission.agent_id)
        .where(Submission.id > since)
    )
    if not who.is_admin:
        q = q.where(Submission.agent_id == who.agent_id)
    elif agent is not None:
        q = q.where(Agent.name == agent)
    if task is not None:
        q = q.where(Submission.task == task)
    with state_of(request).sessions() as s:
        rows = s.execute(q.order_by(Submission.id).limit(limit)).all()
        return [submission_row(sub, name, who.is_admin) for sub, name in rows]


@router.get("/admin/submissions/{submission_id}/predictions")
def submission_predictions(request: Request, _: Admin, submission_id: int = Path(ge=1, le=2**62)) -> dict:
    with state_of(request).sessions() as s:
        sub = s.get(Submission, submission_id)
        if sub is None:
            raise HTTPException(404, f"no submission {submission_id}")
        return {
            "submission_id": sub.id,
            "task": sub.task,
            "split": sub.split,
            "n": sub.n,
            "predictions_sha256": sub.predictions_sha256,
            "predictions": unpack(sub.predictions_packed, sub.n),
        }
