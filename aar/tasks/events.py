"""Progress events of build worker processes: one JSON object per line on stdout.

`{"stage": NAME, "steps": N}` starts a stage (N = 0: no step count), `{"step": I, "loss": L}` reports
progress in it, `{"done": NAME, "seconds": S}` ends it, `{"ready": MODE}` says the task can be scored
with MODE's baselines, `{"error": TEXT}` precedes a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def parse(line: str) -> dict[str, Any] | None:
    """The event on a worker's output line, or None for anything else it printed."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None
