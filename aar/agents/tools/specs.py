"""Names, descriptions, JSON schemas and hints of the tools (what the model or MCP client sees).

Every property is described; unknown arguments are refused (`additionalProperties: false`, checked by
`ToolSet.call`). `output_schema` describes the `data` of a successful result (MCP `structuredContent`);
`annotations` are the MCP tool hints. No schema has a root-level combinator (the Anthropic API refuses
them), so "one of two arguments" is said in the description and checked by the tool.
"""

from __future__ import annotations

from typing import Any

from aar.agents.tools.types import ToolSpec


def _obj(props: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _out(props: dict, required: list[str] | None = None, *, extra: bool = False) -> dict:
    """An output schema; `extra` lets server rows carry fields beyond the described ones."""
    return {"type": "object", "properties": props, "required": required or [], "additionalProperties": extra}


def _s(description: str, **kw: Any) -> dict:
    return {"type": "string", "description": description, **kw}


def _i(description: str, **kw: Any) -> dict:
    return {"type": "integer", "description": description, **kw}


def _b(description: str) -> dict:
    return {"type": "boolean", "description": description}


def _rows(description: str) -> dict:
    return {"type": "array", "description": description, "items": {"type": "object"}}


def _hints(read_only: bool, *, destructive: bool = False, idempotent: bool = False) -> dict[str, bool]:
    """MCP tool annotations. Every tool stays inside the run (workspace, sandbox, the run's server)."""
    if read_only:
        return {"readOnlyHint": True, "openWorldHint": False}
    return {
        "readOnlyHint": False,
        "destructiveHint": destructive,
        "idempotentHint": idempotent,
        "openWorldHint": False,
    }


WS_PATH = (
    "Path of the file: relative to your workspace, or absolute as commands see it "
    "(/workspace/..., or /aar/data/... for reading the task data)."
)
TASK = _s("Task name (default: your task).")
FINDING_TYPES = ["result", "hypothesis", "insight", "error"]
NUM_OR_NULL = {"type": ["number", "null"]}

SPECS: list[ToolSpec] = [
    ToolSpec(
        "bash",
        "Run a bash command inside your sandbox (cwd and HOME = /workspace; the task data read-only at "
        "/aar/data, the models at /aar/models; no network; the server is reachable through "
        "$AAR_SERVER_UDS). Returns the exit code, stdout and stderr; a non-zero exit is an error result.",
        _obj(
            {
                "command": _s("The bash script to run (bash -c), e.g. `python -m aarlab.w2s.run_idea ...`."),
                "timeout": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "description": "Wall-clock limit in seconds (capped by the sandbox's own limit, 900 s "
                    "by default).",
                },
            },
            ["command"],
        ),
        title="Run a command in the sandbox",
        annotations=_hints(False, destructive=True),
        output_schema=_out(
            {
                "returncode": _i("Exit status of the command (negative: killed by that signal)."),
                "timed_out": _b("True if the wall-clock limit stopped it."),
                "killed_reason": {
                    "type": ["string", "null"],
                    "description": "Which limit killed the command (or `cancelled`), else null.",
                },
                "seconds": {"type": "number", "description": "Wall-clock seconds the command ran."},
                "cpu_seconds": {
                    "type": ["number", "null"],
                    "description": "Measured CPU-seconds of the command's process tree (null: unknown).",
                },
            },
            ["returncode", "timed_out", "killed_reason", "seconds"],
        ),
    ),
    ToolSpec(
        "read_file",
        "Read a text file in your workspace or in the read-only task data, optionally a range of lines.",
        _obj(
            {
                "path": _s(WS_PATH),
                "offset": _i("First line to return, 1-based (default 1).", minimum=1),
                "limit": _i("Number of lines to return (default: to the end).", minimum=1),
            },
            ["path"],
        ),
        title="Read a file",
        annotations=_hints(True),
        output_schema=_out(
            {"lines": _i("Lines in the whole file."), "bytes": _i("Size of the file in bytes.")},
            ["lines", "bytes"],
        ),
    ),
    ToolSpec(
        "write_file",
        "Create or overwrite a file in your workspace (parent folders are created).",
        _obj(
            {
                "path": _s("Path of the file in your workspace (relative, or absolute under /workspace)."),
                "content": _s("The whole new content of the file (UTF-8 text)."),
            },
            ["path", "content"],
        ),
        title="Write a file",
        annotations=_hints(False, destructive=True, idempotent=True),
        output_schema=_out(
            {"path": _s("The file, relative to the workspace."), "chars": _i("Characters written.")},
            ["path", "chars"],
        ),
    ),
    ToolSpec(
        "edit_file",
        "Replace an exact string in a workspace file. `old` must occur exactly once unless "
        "`replace_all` is true.",
        _obj(
            {
                "path": _s("Path of the file inside your workspace."),
                "old": _s("The exact text to replace (non-empty, whitespace included).", minLength=1),
                "new": _s("The text to put in its place."),
                "replace_all": _b("Replace every occurrence instead of exactly one (default false)."),
            },
            ["path", "old", "new"],
        ),
        title="Edit a file",
        annotations=_hints(False, destructive=True),
        output_schema=_out({"replacements": _i("Occurrences replaced.")}, ["replacements"]),
    ),
    ToolSpec(
        "list_files",
        "List the files under a folder of your workspace or of the task data (default: the workspace root).",
        _obj(
            {
                "path": _s(
                    "Folder to list: relative to the workspace, or absolute (/workspace/..., "
                    "/aar/data). Default: the workspace root."
                ),
                "recursive": _b("List the whole tree below the folder (default false: its entries)."),
            },
            [],
        ),
        title="List files",
        annotations=_hints(True),
        output_schema=_out({"count": _i("Entries found (at most 500 are listed).")}, ["count"]),
    ),
    ToolSpec(
        "evaluate",
        "Score test-set predictions on the public half of the test set (spends one evaluation of your "
        "budget). Give either `predictions_path` (a predictions.json written by the idea runner; its "
        "manifest.json next to it is sent along) or `predictions`.",
        _obj(
            {
                "predictions_path": _s(
                    "A predictions.json in your workspace with a `test` list of 0/1 (one per test item)."
                ),
                "predictions": {
                    "type": "array",
                    "items": {"type": "integer", "enum": [0, 1]},
                    "description": "The 0/1 predictions for every test item, in order (instead of "
                    "predictions_path).",
                },
                "task": TASK,
                "idea": _s("Name of the idea that made these predictions (shown on the leaderboard)."),
                "snapshot_id": _s("A snapshot (sha256 from share_finding) holding the idea's code."),
            },
            [],
        ),
        title="Evaluate predictions",
        annotations=_hints(False),
        output_schema=_out(
            {
                "submission_id": _i("Id of the stored submission (cite it in share_finding)."),
                "accuracy": {"type": "number", "description": "Accuracy on the public half (rounded)."},
                "pgr": {**NUM_OR_NULL, "description": "Performance gap recovered (null: no gap)."},
                "remaining_budget": {
                    "type": ["integer", "null"],
                    "description": "Evaluations left to you on this task.",
                },
            },
            ["submission_id", "accuracy", "pgr"],
            extra=True,
        ),
    ),
    ToolSpec(
        "share_finding",
        "Post a finding to the team's forum. With `idea_dir`, the idea folder is snapshotted, uploaded "
        "and linked so others can reproduce and build on it.",
        _obj(
            {
                "title": _s("One-line summary, e.g. the method and its PGR.", minLength=1),
                "body": _s("What you did, how it scored (seeds, spread) and what you learned.", minLength=1),
                "type": {
                    "type": "string",
                    "enum": FINDING_TYPES,
                    "description": "Kind of finding (default `result`).",
                },
                "idea_dir": _s("An idea folder in your workspace (run.py + config.json) to attach."),
                "submission_id": _i("The evaluate submission this result reports."),
                "metrics": {
                    "type": "object",
                    "description": 'Numbers to attach, e.g. {"pgr": 0.41, "accuracy": 0.72}.',
                },
                "parent_id": _i("Id of the finding this one replies to."),
                "task": TASK,
            },
            ["title", "body"],
        ),
        title="Share a finding",
        annotations=_hints(False),
        output_schema=_out(
            {
                "id": _i("Id of the new finding."),
                "snapshot_id": {
                    "type": ["string", "null"],
                    "description": "Snapshot of the attached idea folder (null without idea_dir).",
                },
            },
            ["id"],
            extra=True,
        ),
    ),
    ToolSpec(
        "read_forum",
        "Read recent findings of the team, oldest first; filter by id, type, agent or task.",
        _obj(
            {
                "since": _i("Only findings with an id above this one (the last id you have seen)."),
                "type": {"type": "string", "enum": FINDING_TYPES, "description": "Only this kind."},
                "agent": _s("Only findings of this agent (its name)."),
                "task": _s("Only findings about this task."),
                "limit": _i("Most findings to return (default 20).", minimum=1, maximum=500),
            },
            [],
        ),
        title="Read the forum",
        annotations=_hints(True),
        output_schema=_out({"findings": _rows("Findings, ascending id.")}, ["findings"]),
    ),
    ToolSpec(
        "search_forum",
        "Full-text search over the team's findings (all words must match).",
        _obj(
            {
                "query": _s("Words to search for.", minLength=1),
                "limit": _i("Most findings to return (default 20).", minimum=1, maximum=500),
            },
            ["query"],
        ),
        title="Search the forum",
        annotations=_hints(True),
        output_schema=_out({"findings": _rows("Matching findings.")}, ["findings"]),
    ),
    ToolSpec(
        "leaderboard",
        "The leaderboard of a task: best public PGR per agent and idea, with verification status.",
        _obj({"task": TASK}, []),
        title="Leaderboard",
        annotations=_hints(True),
        output_schema=_out({"rows": _rows("Ranked rows.")}, ["rows"]),
    ),
    ToolSpec(
        "download_snapshot",
        "Download a snapshot (an idea folder shared by anyone) and unpack it into a workspace folder.",
        _obj(
            {
                "snapshot_id": _s("The snapshot's sha256 id (from a finding or the leaderboard)."),
                "dest": _s("Folder in your workspace to unpack into (created; files there are replaced)."),
            },
            ["snapshot_id", "dest"],
        ),
        title="Download a snapshot",
        annotations=_hints(False, destructive=True, idempotent=True),
        output_schema=_out(
            {
                "dest": _s("The folder, relative to the workspace."),
                "files": {"type": "array", "items": {"type": "string"}, "description": "Files unpacked."},
            },
            ["dest", "files"],
        ),
    ),
]

BY_NAME: dict[str, ToolSpec] = {s.name: s for s in SPECS}
