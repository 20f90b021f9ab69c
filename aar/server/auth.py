"""Bearer-token auth: tokens are random secrets; the DB keeps only their sha256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aar.server.models import Agent, Token


@dataclass(frozen=True)
class Principal:
    agent_id: int
    name: str
    role: str  # "agent" | "admin"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    cookie = request.cookies.get("aar_token")
    if cookie:
        return cookie
    if request.url.path == "/api/events":  # EventSource in browsers cannot set headers
        return request.query_params.get("token")
    return None


BEARER = HTTPBearer(auto_error=False, description="an agent's or the admin's token")


async def principal(
    request: Request, _doc: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None
) -> Principal:
    """FastAPI dependency: the caller, or 401. (`BEARER` puts the scheme into the OpenAPI document; the
    token may also come from the `aar_token` cookie, or `?token=` on the event stream.)"""
    token = _bearer(request)
    if not token:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)")
    state = request.app.state.aar
    digest = hash_token(token)
    cached = state.token_cache.get(digest)
    if cached is not None:
        return cached
    with state.sessions() as s:  # a cache miss only: once per token per server process
        row = (
            s.query(Agent).join(Token, Token.agent_id == Agent.id).filter(Token.token_hash == digest).first()
        )
        if row is None:
            raise HTTPException(401, "invalid token")
        p = Principal(row.id, row.name, row.role)
    state.token_cache[digest] = p
    return p


async def admin(request: Request, p: Annotated[Principal, Depends(principal)]) -> Principal:
    if not p.is_admin:
        raise HTTPException(403, "admin token required")
    return p


Caller = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(admin)]
