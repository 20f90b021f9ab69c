"""Names, descriptions and JSON schemas of the tools (what the model or MCP client sees)."""

from __future__ import annotations

from aar.agents.tools.types import ToolSpec


def _obj(props: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741

SPECS: list[ToolSpec] = [
    ToolSpec(
        "bash",
        "Run a bash command inside the sandbox (cwd = your workspace; no network; the server "
        "is reachable through $AAR_SERVER_UDS). Returns exit code, stdout and stderr.",
        _obj({"command": S, "timeout": {"type": "number", "description": "seconds"}}, ["command"]),
    ),
    ToolSpec(
        "read_file",
        "Read a text file in the workspace (or a read-only data dir), optionally a line range.",
        _obj(
            {
                "path": S,
                "offset": {**I, "description": "first line, 1-based"},
                "limit": {**I, "description": "number of lines"},
            },
            ["path"],
        ),
    ),
    ToolSpec(
        "write_file",
        "Create or overwrite a file in the workspace (parent folders are created).",
        _obj({"path": S, "content": S}, ["path", "content"]),
    ),
    ToolSpec(
        "edit_file",
        "Replace an exact string in a workspace file. `old` must occur exactly once unless "
        "replace_all is true.",
        _obj({"path": S, "old": S, "new": S, "replace_all": {"type": "boolean"}}, ["path", "old", "new"]),
    ),
    ToolSpec(
        "list_files",
        "List files under a workspace folder (default: the workspace root).",
        _obj({"path": S, "recursive": {"type": "boolean"}}, []),
    ),
    ToolSpec(
        "evaluate",
        "Score test-set predictions on the public half of the test set. Give `predictions_path` "
        "(a predictions.json with a `test` list, in the workspace) or `predictions` (list of 0/1).",
        _obj(
            {
                "predictions_path": S,
                "predictions": {"type": "array", "items": I},
                "task": S,
                "idea": S,
                "snapshot_id": S,
            },
            [],
        ),
    ),
    ToolSpec(
        "share_finding",
        "Post a finding to the forum. With `idea_dir`, the idea folder is snapshotted, "
        "uploaded and linked so others can build on it.",
        _obj(
            {
                "title": S,
                "body": S,
                "type": {"enum": ["result", "hypothesis", "insight", "error"]},
                "idea_dir": S,
                "submission_id": I,
                "metrics": {"type": "object"},
                "parent_id": I,
                "task": S,
            },
            ["title", "body"],
        ),
    ),
    ToolSpec(
        "read_forum",
        "Read recent findings (optionally only newer than `since`, of a type or agent).",
        _obj({"since": I, "type": S, "agent": S, "task": S, "limit": I}, []),
    ),
    ToolSpec("search_forum", "Full-text search over findings.", _obj({"query": S, "limit": I}, ["query"])),
    ToolSpec(
        "leaderboard", "The leaderboard (public PGR) for a task (default: your task).", _obj({"task": S}, [])
    ),
    ToolSpec(
        "download_snapshot",
        "Download a snapshot (an idea folder) into a workspace folder.",
        _obj({"snapshot_id": S, "dest": S}, ["snapshot_id", "dest"]),
    ),
]
