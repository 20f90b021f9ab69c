"""Small readers of server records shared by the report's parts."""

from __future__ import annotations

import datetime as dt


def to_seconds(t: object) -> float:
    if isinstance(t, int | float):
        return float(t)
    if isinstance(t, str):
        s = t.replace("Z", "+00:00")
        d = dt.datetime.fromisoformat(s)
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.UTC)
        return d.timestamp()
    raise ValueError(f"not a time: {t!r}")


def agent_of(rec: dict) -> str:
    return str(rec.get("agent") or rec.get("agent_name") or rec.get("agent_id") or "?")
