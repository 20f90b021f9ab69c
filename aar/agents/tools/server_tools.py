"""evaluate, share_finding, read_forum, search_forum, leaderboard, download_snapshot: through AarClient."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aar.agents.tools.paths import display, resolve_inside
from aar.agents.tools.types import ToolError, ToolResult


def _dump(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)


def evaluate(client: Any, workspace: Path, task: str, args: dict) -> ToolResult:
    preds = args.get("predictions")
    manifest = None
    if args.get("predictions_path"):
        p = resolve_inside(workspace, args["predictions_path"])
        if not p.is_file():
            raise ToolError(f"no such file: {args['predictions_path']}")
        raw = json.loads(p.read_text())
        preds = raw.get("test") if isinstance(raw, dict) else raw
        m = p.parent / "manifest.json"  # written by the idea runner next to its predictions
        if m.is_file():
            try:
                manifest = json.loads(m.read_text())
            except json.JSONDecodeError as e:
                raise ToolError(f"{m.name} next to the predictions is not valid JSON: {e}") from e
    if not isinstance(preds, list) or not preds:
        raise ToolError(
            "give predictions_path (predictions.json with a 'test' list) or predictions (0/1 list)"
        )
    res = client.evaluate(
        args.get("task") or task, preds, idea=args.get("idea"), snapshot_id=args.get("snapshot_id"),
        manifest=manifest if isinstance(manifest, dict) else None,
    )
    return ToolResult(True, _dump(res), res)


def share_finding(client: Any, workspace: Path, task: str, args: dict) -> ToolResult:
    fields: dict[str, Any] = {
        "type": args.get("type") or "result",
        "title": args.get("title"),
        "body": args.get("body"),
        "task": args.get("task") or task,
    }
    if not fields["title"] or not fields["body"]:
        raise ToolError("title and body are required")
    for k in ("submission_id", "metrics", "parent_id"):
        if args.get(k) is not None:
            fields[k] = args[k]
    if args.get("idea_dir"):
        folder = resolve_inside(workspace, args["idea_dir"])
        if not folder.is_dir():
            raise ToolError(f"not a folder: {args['idea_dir']}")
        fields["snapshot_id"] = client.upload_snapshot(folder)
    res = client.post_finding(**fields)
    data = dict(res) if isinstance(res, dict) else {"finding": res}
    data.setdefault("snapshot_id", fields.get("snapshot_id"))
    return ToolResult(True, _dump(data), data)


def read_forum(client: Any, args: dict) -> ToolResult:
    filters = {k: args.get(k) for k in ("since", "type", "agent", "task")}
    rows = client.findings(
        limit=int(args.get("limit") or 20), **{k: v for k, v in filters.items() if v is not None}
    )
    return ToolResult(True, _dump(rows), {"findings": rows})


def search_forum(client: Any, args: dict) -> ToolResult:
    if not args.get("query"):
        raise ToolError("query is required")
    rows = client.findings(q=args["query"], limit=int(args.get("limit") or 20))
    return ToolResult(True, _dump(rows), {"findings": rows})


def leaderboard(client: Any, task: str, args: dict) -> ToolResult:
    rows = client.leaderboard(args.get("task") or task)
    return ToolResult(True, _dump(rows), {"rows": rows})


def download_snapshot(client: Any, workspace: Path, args: dict) -> ToolResult:
    sid, dest = args.get("snapshot_id"), args.get("dest")
    if not sid or not dest:
        raise ToolError("snapshot_id and dest are required")
    target = resolve_inside(workspace, dest)
    client.download_snapshot(sid, target)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    return ToolResult(
        True,
        f"unpacked {len(files)} files into {display(workspace, target)}: {files[:30]}",
        {"dest": display(workspace, target), "files": files},
    )
