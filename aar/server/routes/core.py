"""Health, identity, agents (admin creates them and their tokens), tasks (public metadata only)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aar.server.auth import Admin, Caller, hash_token, new_token
from aar.server.models import Agent, Token
from aar.server.routes.common import NAME_RE, iso, opt_str, read_json_object, state_of
from aar.server.schemas import AgentBody, body_doc
from aar.server.state import OVERSEER, utcnow
from aar.server.tasks import TaskData

router = APIRouter(prefix="/api")


@router.get("/health")
def health() -> dict:
    return {"ok": True}


@router.get("/me")
def me(who: Caller) -> dict:
    return {"agent_id": who.agent_id, "name": who.name, "role": who.role}


def _issue(request: Request, agent: Agent) -> dict:
    token = new_token("aar_agent")
    with state_of(request).sessions.begin() as s:
        s.add(Token(agent_id=agent.id, token_hash=hash_token(token), created_at=utcnow()))
    return {"agent_id": agent.id, "name": agent.name, "token": token}


@router.post("/admin/agents", openapi_extra=body_doc(AgentBody))
async def create_agent(request: Request, _: Admin) -> dict:
    """Create an agent and its first token. For the built-in `overseer` (exists from the start),
    this issues it a fresh token instead of failing."""
    obj = await read_json_object(request)
    name = opt_str(obj, "name", 100, required=True)
    direction = opt_str(obj, "direction", 10_000)
    assert name is not None
    if not NAME_RE.match(name):
        raise HTTPException(422, "'name' must be 1-100 characters of letters, digits, '_', '.', '-'")
    st = state_of(request)
    with st.sessions() as s:
        existing = s.scalar(select(Agent).where(Agent.name == name))
    if existing is not None:
        if existing.name == OVERSEER and existing.builtin:
            return _issue(request, existing)
        raise HTTPException(409, f"an agent named {name!r} already exists")
    try:
        with st.sessions.begin() as s:
            agent = Agent(name=name, role="agent", direction=direction, builtin=False, created_at=utcnow())
            s.add(agent)
            s.flush()
            token = new_token("aar_agent")
            s.add(Token(agent_id=agent.id, token_hash=hash_token(token), created_at=utcnow()))
            agent_id = agent.id
    except IntegrityError:
        raise HTTPException(409, f"an agent named {name!r} already exists") from None
    return {"agent_id": agent_id, "name": name, "token": token}


@router.post("/admin/agents/{name}/tokens")
def issue_token(name: str, request: Request, _: Admin) -> dict:
    """A new token for an existing agent (e.g. when resuming a run)."""
    with state_of(request).sessions() as s:
        agent = s.scalar(select(Agent).where(Agent.name == name))
    if agent is None or agent.role != "agent":
        raise HTTPException(404, f"no agent named {name!r}")
    return _issue(request, agent)


@router.get("/agents")
def agents(request: Request, _: Caller) -> list[dict]:
    with state_of(request).sessions() as s:
        rows = s.scalars(select(Agent).order_by(Agent.id)).all()
        return [
            {
                "agent_id": a.id,
                "name": a.name,
                "role": a.role,
                "direction": a.direction,
                "builtin": a.builtin,
                "created_at": iso(a.created_at),
            }
            for a in rows
        ]


def _admin_task(t: TaskData) -> dict:
    """The admin's view of a served task: its public meta, its draws, the fixed baselines per subset."""
    row = {**t.meta, "prepared": True, "draws": [d.draw for d in (t.main, t.heldout) if d is not None]}
    if t.main.subset_base:
        row["subset_baselines"] = {
            k: {"weak_acc": b.weak_acc, "strong_acc": b.strong_acc}
            for k, b in sorted(t.main.subset_base.items())
        }
    return row


@router.get("/tasks")
def tasks(request: Request, who: Caller) -> list[dict]:
    """Public meta of every served task. The admin also gets the task dirs that are not served, as
    `{"task", "prepared": false, "reason"}` rows saying what to run."""
    reg = state_of(request).tasks
    served = [t for name in reg.names() if (t := reg.get(name)) is not None]
    if not who.is_admin:
        return [t.meta for t in served]
    rows = [_admin_task(t) for t in served]
    return rows + [{"task": n, "prepared": False, "reason": r} for n, r in sorted(reg.problems().items())]


@router.get("/tasks/{task}")
def task(task: str, request: Request, who: Caller) -> dict:
    reg = state_of(request).tasks
    t = reg.get(task)
    if t is None:
        reason = reg.problems().get(task) if who.is_admin else None
        if reason:
            raise HTTPException(409, f"task {task!r}: {reason}")
        raise HTTPException(404, f"unknown task {task!r}")
    return _admin_task(t) if who.is_admin else t.meta
