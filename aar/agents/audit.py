"""The agent's audit log: one JSON line per tool call, arguments and output trimmed."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

ARG_CHARS = 2000
OUTPUT_CHARS = 4000


def trim(value: Any, limit: int) -> Any:
    """Shorten long strings (keeping head and tail) inside any JSON-like value."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        half = limit // 2
        return f"{value[:half]}...[{len(value) - 2 * half} chars trimmed]...{value[-half:]}"
    if isinstance(value, dict):
        return {str(k): trim(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [trim(v, limit) for v in value[:50]]
        return items + ([f"...[{len(value) - 50} more items]"] if len(value) > 50 else [])
    return value


class AuditLog:
    """Appends `{"t", "agent", "tool", "args", "ok", "output", "seconds"}` lines to `path` (thread-safe)."""

    def __init__(self, path: str | Path, agent: str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.agent = agent
        self._lock = threading.Lock()

    def record(self, tool: str, args: dict, ok: bool, output: str, seconds: float) -> dict:
        entry = {
            "t": round(time.time(), 3),
            "agent": self.agent,
            "tool": tool,
            "args": trim(args, ARG_CHARS),
            "ok": ok,
            "output": trim(output, OUTPUT_CHARS),
            "seconds": round(seconds, 4),
        }
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return entry

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(x) for x in self.path.read_text(encoding="utf-8").splitlines() if x.strip()]
