"""A leaderboard row opened: the finding, its method (recipe in words, files), its recipe/code diff against
its parent finding's snapshot (else the closest baseline), its verification and flags; or a baseline's."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from aar import methods
from aar.server.auth import Principal, principal
from aar.server.blobs import BlobStore
from aar.server.claims import claim_rows
from aar.server.models import Agent, Finding, Snapshot, Verification
from aar.server.routes.common import NAME_RE, SHA256_RE
from aar.server.routes.forum import finding_row
from aar.server.verification import Subject, verification_row

router = APIRouter(include_in_schema=False)
Who = Annotated[Principal, Depends(principal)]


@lru_cache(maxsize=1)
def _baselines(ceilings: bool = False) -> dict[str, methods.Files]:
    return methods.baseline_files(ceilings)


@lru_cache(maxsize=512)
def _snapshot_files(blobs: BlobStore, sid: str) -> methods.Files:  # keyed by content hash: never stale
    return methods.snapshot_files(blobs.get(sid))


def files_of(request: Request, s: Session, sid: str | None) -> methods.Files | None:
    if not sid or not SHA256_RE.match(sid) or s.get(Snapshot, sid) is None:
        return None
    try:
        return _snapshot_files(request.app.state.aar.blobs, sid)
    except (KeyError, OSError):
        return None


def method_view(files: methods.Files, fallback: str = "") -> dict:
    return {
        "description": methods.describe(files, fallback),
        "recipe": methods.recipe_of(files),
        "key": methods.method_key(files),
        "files": files,
    }


def _row(s: Session, f: Finding) -> dict:
    return finding_row(f, s.get(Agent, f.agent_id).name)


@router.get("/dashboard/findings/{finding_id}.json")
def finding_detail(request: Request, who: Who, finding_id: int = Path(ge=1, le=2**62)) -> dict:
    st = request.app.state.aar
    with st.sessions() as s:
        f = s.get(Finding, finding_id)
        if f is None:
            raise HTTPException(404, f"no finding {finding_id}")
        out: dict = {"finding": _row(s, f), "parent": None, "method": None, "comparisons": []}
        parent = s.get(Finding, f.parent_id) if f.parent_id else None
        if parent is not None:
            out["parent"] = _row(s, parent)
        files = files_of(request, s, f.snapshot_id)
        if files is not None:
            out["method"] = method_view(files, f.title)
            parent_files = files_of(request, s, parent.snapshot_id) if parent is not None else None
            if parent_files is not None and parent is not None:
                out["comparisons"].append(methods.comparison(files, parent_files, f"parent #{parent.id}"))
            near = methods.closest_baseline(files, _baselines())
            if near is not None:
                out["comparisons"].append(methods.comparison(files, _baselines()[near], f"baseline {near}"))
        v = s.scalar(select(Verification).where(Verification.finding_id == finding_id))
        out["verification"] = verification_row(v, who.is_admin) if v is not None else None
        replies = s.scalars(select(Finding).where(Finding.parent_id == finding_id).order_by(Finding.id)).all()
        out["replies"] = [_row(s, r) for r in replies]
        if f.type == "result":
            task = f.task or None
            claim = next((c for c in claim_rows(s, task) if finding_id in c["finding_ids"]), None)
            out["claim"] = None
            if claim is not None:
                out["claim"] = {k: claim[k] for k in ("finding_id", "finding_ids", "agent")}
    return out


@router.get("/dashboard/baselines/{task}/{name}.json")
def baseline_detail(request: Request, who: Who, task: str, name: str) -> dict:
    if not NAME_RE.match(name) or not NAME_RE.match(task):
        raise HTTPException(404, "not found")
    files = _baselines(ceilings=True).get(name)
    st = request.app.state.aar
    with st.sessions() as s:
        v = s.scalar(select(Verification).where(Subject(baseline=name, task=task).where(Verification)))
    if files is None and v is None:
        raise HTTPException(404, f"no baseline {name!r} on {task!r}")
    return {
        "baseline": name,
        "task": task,
        "method": method_view(files) if files else None,
        "verification": verification_row(v, who.is_admin) if v is not None else None,
    }
