"""read_file, write_file, edit_file, list_files: inside the workspace (reads also in read-only data dirs)."""

from __future__ import annotations

import os
from pathlib import Path

from aar.agents.tools.paths import display, resolve_inside
from aar.agents.tools.types import ToolError, ToolResult

MAX_READ_CHARS = 60_000
MAX_WRITE_BYTES = 5_000_000
MAX_LIST = 500


def _readable(workspace: Path, extra_roots: list[Path], path: str) -> Path:
    try:
        return resolve_inside(workspace, path)
    except ToolError:
        for root in extra_roots:
            if Path(path).is_absolute():
                try:
                    return resolve_inside(root, path)
                except ToolError:
                    continue
        raise


def read_file(workspace: Path, args: dict, extra_roots: list[Path]) -> ToolResult:
    p = _readable(workspace, extra_roots, args.get("path", ""))
    if not p.is_file():
        raise ToolError(f"no such file: {args['path']}")
    text = p.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    offset = max(int(args.get("offset") or 1), 1)
    limit = args.get("limit")
    chosen = lines[offset - 1 : offset - 1 + int(limit)] if limit else lines[offset - 1 :]
    out = "".join(chosen)
    note = ""
    if len(out) > MAX_READ_CHARS:
        out, note = out[:MAX_READ_CHARS], f"\n[truncated at {MAX_READ_CHARS} chars; use offset/limit]"
    return ToolResult(True, out + note, {"lines": len(lines), "bytes": p.stat().st_size})


def _write(p: Path, content: str) -> None:
    data = content.encode("utf-8")
    if len(data) > MAX_WRITE_BYTES:
        raise ToolError(f"content too large ({len(data)} bytes > {MAX_WRITE_BYTES})")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_file(workspace: Path, args: dict) -> ToolResult:
    p = resolve_inside(workspace, args.get("path", ""))
    if p.is_dir():
        raise ToolError(f"{args['path']} is a directory")
    content = args.get("content")
    if not isinstance(content, str):
        raise ToolError("content must be a string")
    _write(p, content)
    shown = display(workspace, p)
    return ToolResult(True, f"wrote {len(content)} chars to {shown}", {"path": shown, "chars": len(content)})


def edit_file(workspace: Path, args: dict) -> ToolResult:
    p = resolve_inside(workspace, args.get("path", ""))
    if not p.is_file():
        raise ToolError(f"no such file: {args.get('path')}")
    old, new = args.get("old"), args.get("new")
    if not isinstance(old, str) or not isinstance(new, str) or not old:
        raise ToolError("old (non-empty) and new must be strings")
    text = p.read_text(encoding="utf-8")
    n = text.count(old)
    if n == 0:
        raise ToolError(f"old string not found in {args['path']}")
    if n > 1 and not args.get("replace_all"):
        raise ToolError(f"old string occurs {n} times in {args['path']}; make it unique or set replace_all")
    _write(p, text.replace(old, new) if args.get("replace_all") else text.replace(old, new, 1))
    return ToolResult(
        True,
        f"replaced {n if args.get('replace_all') else 1} occurrence(s) in {args['path']}",
        {"replacements": n if args.get("replace_all") else 1},
    )


def list_files(workspace: Path, args: dict, extra_roots: list[Path]) -> ToolResult:
    p = _readable(workspace, extra_roots, args.get("path") or ".")
    if not p.is_dir():
        raise ToolError(f"not a folder: {args.get('path')}")
    items = sorted(p.rglob("*") if args.get("recursive") else p.iterdir())
    rows = []
    for item in items[:MAX_LIST]:
        rel = item.relative_to(p)
        if item.is_symlink():
            rows.append(f"{rel} -> {os.readlink(item)}")
        elif item.is_dir():
            rows.append(f"{rel}/")
        else:
            rows.append(f"{rel}  {item.stat().st_size}")
    more = f"\n[... {len(items) - MAX_LIST} more]" if len(items) > MAX_LIST else ""
    return ToolResult(True, "\n".join(rows) + more, {"count": len(items)})
