"""The per-agent transcript: RUN_DIR/agents/<name>/transcript.jsonl, one JSON object per event."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


def trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [{len(text) - limit} more chars]"


class Transcript:
    """Events: session_start, request, response, retry, tool, trim, session_end, error, stop.
    Every line has `t` (unix time), `agent`, `event`."""

    def __init__(self, path: Path, agent: str, field_chars: int = 8000) -> None:
        self.path = path
        self.agent = agent
        self.field_chars = field_chars
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def log(self, event: str, **fields: Any) -> None:
        record = {"t": round(time.time(), 3), "agent": self.agent, "event": event}
        for key, value in fields.items():
            record[key] = trim_nested(value, self.field_chars)
        line = json.dumps(record, default=str)
        with self._lock, self.path.open("a") as f:
            f.write(line + "\n")


def trim_nested(value: Any, limit: int) -> Any:
    """Trim every string inside a JSON-like value (tool arguments can hold whole files)."""
    if isinstance(value, str):
        return trim(value, limit)
    if isinstance(value, dict):
        return {k: trim_nested(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [trim_nested(v, limit) for v in value]
    return value


def clip_middle(text: str, limit: int) -> str:
    """Keep the head and the tail (where errors usually are) of a long text."""
    if len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head
    return f"{text[:head]}\n[... {len(text) - limit} chars cut ...]\n{text[-tail:]}"


def read_transcript(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
