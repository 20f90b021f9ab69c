"""Code store: upload (validated tar.gz, sha256-addressed, deduplicated), download, list."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from aar.server.auth import Caller
from aar.server.models import Agent, Snapshot
from aar.server.routes.common import SHA256_RE, iso, read_body, state_of
from aar.server.schemas import raw_body_doc
from aar.server.state import utcnow
from aarlab.client.snapshots import UnsafeArchive, check_archive

router = APIRouter(prefix="/api")


@router.post(
    "/snapshots",
    openapi_extra=raw_body_doc("application/gzip", "the idea folder as a tar.gz (snapshots.pack)"),
)
async def upload(request: Request, who: Caller) -> dict:
    st = state_of(request)
    limit = st.settings.max_snapshot_bytes
    data = await read_body(request, limit)
    if not data:
        raise HTTPException(422, "empty body: send the snapshot tar.gz as the raw request body")
    try:
        info = await run_in_threadpool(
            check_archive,
            data,
            max_unpacked=st.settings.max_snapshot_unpacked_bytes,
            max_members=st.settings.max_snapshot_members,
        )
    except UnsafeArchive as exc:
        raise HTTPException(422, f"snapshot refused: {exc}") from None
    sid = hashlib.sha256(data).hexdigest()

    def store() -> bool:
        with st.sessions() as s:
            if s.get(Snapshot, sid) is not None:
                return False
        st.blobs.put(sid, data)  # blob first: a row never points at a missing blob
        try:
            with st.sessions.begin() as s:
                s.add(
                    Snapshot(
                        id=sid,
                        size=len(data),
                        n_files=info.n_files,
                        agent_id=who.agent_id,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:  # a concurrent upload of the same bytes won
            return False
        return True

    created = await run_in_threadpool(store)
    if created:
        st.broker.publish(
            "snapshot", {"snapshot_id": sid, "size": len(data), "n_files": info.n_files, "agent": who.name}
        )
    return {"snapshot_id": sid, "size": len(data), "n_files": info.n_files, "created": created}


@router.get("/snapshots")
def list_snapshots(
    request: Request,
    _: Caller,
    agent: str | None = Query(None, max_length=100),
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[dict]:
    q = select(Snapshot, Agent.name).join(Agent, Agent.id == Snapshot.agent_id)
    if agent is not None:
        q = q.where(Agent.name == agent)
    with state_of(request).sessions() as s:
        rows = s.execute(q.order_by(Snapshot.created_at, Snapshot.id).limit(limit)).all()
        return [
            {
                "snapshot_id": sn.id,
                "size": sn.size,
                "n_files": sn.n_files,
                "agent": name,
                "created_at": iso(sn.created_at),
            }
            for sn, name in rows
        ]


@router.get("/snapshots/{sid}")
def download(sid: str, request: Request, _: Caller) -> Response:
    if not SHA256_RE.match(sid):
        raise HTTPException(404, "snapshot ids are 64-character lowercase sha256 hex")
    st = state_of(request)
    with st.sessions() as s:
        if s.get(Snapshot, sid) is None:
            raise HTTPException(404, f"no snapshot {sid}")
    return Response(
        st.blobs.get(sid),
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{sid}.tar.gz"'},
    )
