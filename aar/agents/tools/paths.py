"""Keep every file tool inside the workspace: relative or absolute paths, `..` and symlinks all checked."""

from __future__ import annotations

from pathlib import Path

from aar.agents.tools.types import ToolError


def resolve_inside(workspace: Path, path: str) -> Path:
    """The real path of `path` (relative to the workspace, or absolute), refusing anything outside it.

    Symlinks are resolved first, so a link in the workspace that points out is refused too."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ToolError("path must be a non-empty string")
    root = workspace.resolve()
    p = Path(path)
    candidate = p if p.is_absolute() else root / p
    real = candidate.resolve()
    if real != root and root not in real.parents:
        raise ToolError(f"path {path!r} is outside the workspace {root}")
    return real


def display(workspace: Path, real: Path) -> str:
    rel = real.relative_to(workspace.resolve())
    return str(rel) if str(rel) != "." else "."
