"""The system prompt (task meta + direction + library docs) and each session's opening message."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from aar.agents.llm.notebook import NOTEBOOK


def library_docs() -> str:
    return resources.files("aar.agents.llm").joinpath("w2s_library.md").read_text()


def _task_section(meta: dict[str, Any], data_dir: str | None) -> str:
    task, draw, size = meta.get("task", "?"), meta.get("draw", "main"), meta.get("size", "?")
    lines = [f"Task: `{task}` (draw `{draw}`, size `{size}`)."]
    if meta.get("description"):
        lines.append(f"Description: {meta['description']}")
    if meta.get("n"):
        lines.append("Sizes: " + ", ".join(f"{k}={v}" for k, v in meta["n"].items()))
    if meta.get("seeds"):
        lines.append(f"Weak-label seeds: {meta['seeds']}")
    ref = meta.get("reference_mode")
    if ref:
        lines.append(f"Reference mode (used for PGR): `{ref}`")
    for mode, b in (meta.get("baselines") or {}).items():
        if isinstance(b, dict):
            shown = ", ".join(f"{k}={v}" for k, v in b.items())
            lines.append(f"Baselines ({mode}): {shown}")
    if meta.get("models"):
        lines.append("Models: " + json.dumps(meta["models"]))
    if data_dir:
        lines.append(f"Public data dir (read-only): `{data_dir}`")
    return "\n".join(lines)


def build_system_prompt(
    *,
    name: str,
    meta: dict[str, Any],
    direction: str,
    data_dir: str | None = None,
    workspace: str | None = None,
    extra: str = "",
) -> str:
    where = f" Your workspace (the only writable place) is `{workspace}`." if workspace else ""
    parts = [
        f"You are `{name}`, an automated alignment researcher working on weak-to-strong supervision, "
        "one of a team of agents sharing a forum and a leaderboard. Your job: find methods that make a "
        "strong model learn well from a weak supervisor (high PGR), verify them, and share what you find.",
        f"# Task\n\n{_task_section(meta, data_dir)}",
        "# Your research direction\n\n" + (direction.strip() or "Free choice: an under-explored direction."),
        "# How you work\n\n"
        f"- Use the tools. Commands run in a sandbox without network.{where}\n"
        "- Write each idea as its own folder (`run.py` + `config.json`), run it with the idea runner, "
        "evaluate its predictions, and share results worth sharing (with the idea folder) as findings.\n"
        "- Read the forum to build on others' results and avoid repeating them.\n"
        "- Idea runs (`python -m aarlab.w2s.run_idea ...`) share the machine: they wait for a compute slot; "
        "pass `--threads ${AAR_THREADS:-1}`.\n"
        f"- `{NOTEBOOK}` in your workspace is your memory across sessions: each session starts with only "
        "the notebook. Keep it updated (plan, results with numbers, lessons, next steps) with the file "
        "tools, especially before a session ends.\n"
        "- Be honest: report numbers as measured, note seeds and spread, never tune on the test labels.\n"
        "- When you have nothing more to do in this session, answer without calling a tool.",
        f"# Library documentation\n\n{library_docs()}",
    ]
    if extra:
        parts.append(extra)
    return "\n\n".join(parts)


def notebook_section(notebook: str) -> str:
    """The notebook as each session (of the `llm` loop or an MCP client's `resume` prompt) opens with it."""
    return (
        f"Your notebook (`{NOTEBOOK}`) so far:\n\n<notebook>\n{notebook}\n</notebook>\n\n"
        "Continue your research from where the notebook leaves off."
    )


def opening_message(*, session: int, notebook: str, turns_left: int, session_turns: int) -> str:
    return (
        f"Session {session} begins. You have up to {session_turns} model turns in this session "
        f"({turns_left} left in total).\n\n" + notebook_section(notebook)
    )


LAST_TURN_NOTE = (
    "[loop] This session ends after your next turn. Update NOTEBOOK.md now with what you learned and "
    "what to do next."
)

CUT_NOTE = "[loop] Your reply was cut off at the output token limit. Continue, in shorter steps."
