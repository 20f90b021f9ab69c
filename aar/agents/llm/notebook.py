"""NOTEBOOK.md in the agent's workspace: the agent's memory across sessions."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOTEBOOK = "NOTEBOOK.md"

TEMPLATE = """# Research notebook

Memory across sessions: keep it short and current. Record what you tried (idea folder, config),
what it scored (accuracy, PGR), what you learned, and what to try next.

## Plan

## Results

## Next
"""


def read_notebook(workspace: Path, max_chars: int) -> str:
    """The notebook's text (created from the template when missing); head and tail kept if too long."""
    path = workspace / NOTEBOOK
    if not path.exists():
        path.write_text(TEMPLATE)
    text = path.read_text(errors="replace")
    if len(text) <= max_chars:
        return text
    head = max_chars // 3
    tail = max_chars - head
    return (
        text[:head]
        + f"\n\n[... {len(text) - max_chars} chars of the notebook not shown ...]\n\n"
        + text[-tail:]
    )


@dataclass
class SessionStats:
    number: int
    started: float = field(default_factory=time.time)
    turns: int = 0
    tools: Counter[str] = field(default_factory=Counter)
    tool_errors: int = 0
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    dollars: float = 0.0
    last_text: str = ""
    end_reason: str = ""


def session_summary(s: SessionStats) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(s.started))
    lines = [f"\n## Session {s.number} summary (written by the loop, {when})", ""]
    lines.append(
        f"- turns: {s.turns}; ended: {s.end_reason or 'unknown'}; "
        f"tokens in/out: {s.input_tokens}/{s.output_tokens}; cost: ${s.dollars:.4f}"
    )
    if s.tools:
        used = ", ".join(f"{k}×{v}" for k, v in sorted(s.tools.items()))
        lines.append(f"- tool calls: {used}; errors: {s.tool_errors}")
    for ev in s.evaluations:
        shown = ", ".join(
            f"{k}={v}"
            for k, v in ev.items()
            if k in ("idea", "accuracy", "pgr", "submission_id", "remaining_budget")
        )
        lines.append(f"- evaluation: {shown}")
    for title in s.findings:
        lines.append(f"- shared finding: {title}")
    if s.last_text:
        last = s.last_text.strip().replace("\n", " ")
        lines.append(f"- last message: {last[:400]}{'...' if len(last) > 400 else ''}")
    return "\n".join(lines) + "\n"


def append_summary(workspace: Path, s: SessionStats) -> str:
    text = session_summary(s)
    path = workspace / NOTEBOOK
    with path.open("a") as f:
        f.write(text)
    return text
