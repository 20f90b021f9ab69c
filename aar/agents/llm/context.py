"""Context trimming: keep the system prompt, the session's opening message (with the notebook) and the
recent turns within a character budget; collapse old tool outputs first, then drop the oldest turns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from aar.agents.llm.messages import Msg, ToolOutput

DROPPED_MARK = "\n\n[context trimmed: "
DROPPED_NOTE = "{n} earlier turn(s) of this session were dropped to fit the context; see NOTEBOOK.md]"


@dataclass
class TrimReport:
    chars_before: int
    chars_after: int
    collapsed: int = 0
    dropped_turns: int = 0


def total_chars(system: str, messages: Sequence[Msg]) -> int:
    return len(system) + sum(m.chars() for m in messages)


def _collapse(r: ToolOutput, keep: int) -> ToolOutput:
    if len(r.output) <= keep + 80:
        return r
    head = r.output[:keep]
    return replace(
        r,
        output=f"{head}\n[... old tool output collapsed: {len(r.output) - keep} of "
        f"{len(r.output)} chars removed]",
    )


def _assistant_indices(messages: Sequence[Msg]) -> list[int]:
    return [i for i, m in enumerate(messages) if m.role == "assistant"]


def trim_context(
    system: str, messages: list[Msg], budget: int, keep_recent_turns: int, collapsed_chars: int
) -> tuple[list[Msg], TrimReport]:
    """Return messages fitting `budget` chars (if at all possible) and what was done.
    messages[0] is the session's opening user message and always kept."""
    before = total_chars(system, messages)
    report = TrimReport(before, before)
    if before <= budget or len(messages) < 2:
        return messages, report
    out = list(messages)
    # 1. collapse tool outputs older than the last `keep_recent_turns` assistant turns
    assistants = _assistant_indices(out)
    cutoff = assistants[-keep_recent_turns] if len(assistants) >= keep_recent_turns else 0
    for i in range(1, cutoff):
        m = out[i]
        if m.role == "tool":
            new = [_collapse(r, collapsed_chars) for r in m.results]
            report.collapsed += sum(1 for a, b in zip(new, m.results, strict=True) if a is not b)
            out[i] = replace(m, results=new)
    # 2. drop whole turns (assistant + its tool results / notes) from the oldest, keeping the newest turn
    dropped = 0
    while total_chars(system, out) > budget:
        assistants = _assistant_indices(out)
        if len(assistants) <= 1:
            break
        start, end = assistants[0], assistants[1]
        del out[start:end]
        dropped += 1
    if dropped:
        opening = out[0]
        base, previous = opening.text, 0
        if DROPPED_MARK in base:
            base, tail = base.rsplit(DROPPED_MARK, 1)
            previous = int(tail.split(" ", 1)[0])
        out[0] = replace(opening, text=base + DROPPED_MARK + DROPPED_NOTE.format(n=previous + dropped))
    report.dropped_turns = dropped
    report.chars_after = total_chars(system, out)
    return out, report
