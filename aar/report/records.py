"""Small readers of server records shared by the report's parts."""

from __future__ import annotations


def agent_of(rec: dict) -> str:
    return str(rec.get("agent") or rec.get("agent_name") or rec.get("agent_id") or "?")
