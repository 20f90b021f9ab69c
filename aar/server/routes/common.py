"""Shared helpers for routes: bounded JSON bodies, field checks, row serialisation."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from pydantic_core import from_json

from aar.server.state import ServerState


def loads(data: bytes) -> Any:
    """Parse JSON fast (pydantic-core's Rust parser); NaN/Infinity are refused like any invalid JSON."""
    return from_json(data, allow_inf_nan=False)


SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def state_of(request: Request) -> ServerState:
    return request.app.state.aar


async def read_json_object(request: Request) -> dict[str, Any]:
    limit = state_of(request).settings.max_json_bytes
    body = await read_body(request, limit)
    try:
        obj = loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"body is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise HTTPException(422, "body must be a JSON object")
    return obj


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPException(413, f"body too large: {declared} bytes > limit {limit}")
        except ValueError:
            raise HTTPException(400, "bad Content-Length") from None
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise HTTPException(413, f"body too large: more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def opt_str(obj: dict[str, Any], key: str, max_len: int = 200, required: bool = False) -> str | None:
    val = obj.get(key)
    if val is None:
        if required:
            raise HTTPException(422, f"'{key}' is required")
        return None
    if not isinstance(val, str):
        raise HTTPException(422, f"'{key}' must be a string")
    if required and not val.strip():
        raise HTTPException(422, f"'{key}' must not be empty")
    if len(val) > max_len:
        raise HTTPException(422, f"'{key}' is longer than {max_len} characters")
    if "\x00" in val:
        raise HTTPException(422, f"'{key}' must not contain NUL characters")
    return val


def opt_int(obj: dict[str, Any], key: str) -> int | None:
    val = obj.get(key)
    if val is None:
        return None
    if type(val) is not int or not (0 < val < 2**62):
        raise HTTPException(422, f"'{key}' must be a positive integer")
    return val


MAX_NUMBER = 1e15  # bigger numbers in a body are refused (no metric, seed or time needs more)


def finite(val: object) -> float | None:
    """`val` as a float when it is a JSON number of sane size (bools and huge integers are not)."""
    if type(val) is int:
        return float(val) if -MAX_NUMBER <= val <= MAX_NUMBER else None
    if type(val) is float and math.isfinite(val) and abs(val) <= MAX_NUMBER:
        return val
    return None


def opt_float(obj: dict[str, Any], key: str) -> float | None:
    val = obj.get(key)
    if val is None:
        return None
    out = finite(val)
    if out is None:
        raise HTTPException(422, f"'{key}' must be a finite number of magnitude at most {MAX_NUMBER:g}")
    return out


def snapshot_id(obj: dict[str, Any], key: str = "snapshot_id") -> str | None:
    val = opt_str(obj, key, 64)
    if val is not None and not SHA256_RE.match(val):
        raise HTTPException(422, f"'{key}' must be a 64-character lowercase sha256 hex id")
    return val


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat() + "Z"
